"""The instance options `serve` and `worker` share: --min-instances, --max-instances,
--idle-timeout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the runner loads only for the commands that run models
    from foretell.runner.autoscale import ScalingOptions

MinInstancesOption = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Instances of each model that always run. Default: 1 for your models, 0 for "
        "built-in ones (they stop when idle and start again on the next prediction).",
    ),
]
MaxInstancesOption = Annotated[
    int,
    typer.Option(
        min=1,
        help="Instances of each model this process may run at once: more start while work "
        "waits and every slot is busy.",
    ),
]
IdleTimeoutOption = Annotated[
    float | None,
    typer.Option(
        min=0,
        metavar="SECONDS",
        help="Stop an instance idle this long (down to --min-instances, which then defaults "
        "to 0: scale to zero). Default: 300 for built-in models, never for yours.",
    ),
]


def scaling_options(
    min_instances: int | None, max_instances: int, idle_timeout: float | None
) -> ScalingOptions:
    """The options as the runner takes them (exit 2 if min > max)."""
    from foretell.runner.autoscale import ScalingOptions

    if min_instances is not None and min_instances > max_instances:
        raise typer.BadParameter(
            f"--min-instances {min_instances} is more than --max-instances {max_instances}"
        )
    return ScalingOptions(min_instances, max_instances, idle_timeout)
