// The official `replicate` npm client's trainings against a foretell server.
// Usage: node trainings.mjs BASE_URL TOKEN  -> prints one JSON object of results.
import Replicate from "replicate";

const [baseUrl, auth] = process.argv.slice(2);
const replicate = new Replicate({ auth, baseUrl: `${baseUrl}/v1` });
const results = {};

const { username } = await replicate.accounts.current();
await replicate.models.create(username, "greeter-js", { visibility: "private", hardware: "cpu" });
const base = (await replicate.models.get("acme", "greeter")).latest_version.id;

const training = await replicate.trainings.create("acme", "greeter", base, {
  destination: `${username}/greeter-js`,
  input: { greeting: "Hola" },
});
results.created = [training.status, training.destination];
results.got = (await replicate.trainings.get(training.id)).id === training.id;
results.listed = (await replicate.trainings.list()).results.some((t) => t.id === training.id);
const done = await replicate.wait(training, { interval: 100 });
results.done = [done.status, done.error ?? null];
results.weights = await (await fetch(done.output.weights)).text();
results.trained = await replicate.run(done.output.version, { input: { name: "Js" } });

const slowBase = (await replicate.models.get("acme", "slow")).latest_version.id;
await replicate.models.create(username, "slow-js", { visibility: "private", hardware: "cpu" });
const slow = await replicate.trainings.create("acme", "slow", slowBase, {
  destination: `${username}/slow-js`,
  input: {},
});
results.canceled = (await replicate.trainings.cancel(slow.id)).status;

try {
  await replicate.trainings.create("acme", "slow", slowBase, {
    destination: `${username}/nowhere`,
    input: {},
  });
  results.unknownDestination = "no error";
} catch (error) {
  results.unknownDestination = error.response ? error.response.status : String(error);
}

console.log(JSON.stringify(results));
