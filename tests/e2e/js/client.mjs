// Drives the official `replicate` npm client against a foretell server.
// Usage: node client.mjs BASE_URL TOKEN  -> prints one JSON object of results.
import Replicate from "replicate";

const [baseUrl, auth] = process.argv.slice(2);
const replicate = new Replicate({ auth, baseUrl: `${baseUrl}/v1` });
const results = {};

const hello = await replicate.run("foretell/hello", { input: { name: "Js", delay: 0, repeat: 1 } });
results.run = Array.isArray(hello) ? hello.join("") : String(hello);

const model = await replicate.models.get("foretell", "hello");
results.version = model.latest_version.id;

const created = await replicate.predictions.create({
  version: model.latest_version.id,
  input: { name: "Wait", delay: 0, repeat: 1 },
});
const waited = await replicate.wait(created, { interval: 100 });
results.waited = { status: waited.status, output: waited.output.join("") };

const slow = await replicate.predictions.create({
  version: model.latest_version.id,
  input: { delay: 2, repeat: 20 },
});
await new Promise((resolve) => setTimeout(resolve, 300));
results.canceled = (await replicate.predictions.cancel(slow.id)).status;

const pages = [];
for await (const page of replicate.paginate(replicate.predictions.list)) {
  pages.push(page.length);
}
results.pages = pages;

try {
  await replicate.run("foretell/hello", { input: { repeat: 99 } });
  results.invalid = "no error";
} catch (error) {
  results.invalid = String(error.message).includes("422") ? 422 : String(error.message);
}

const wc = await replicate.run("foretell/wordcount", {
  input: { text: new Blob(["b a b\n"], { type: "text/plain" }) },
});
results.wordcount = wc.top_words;
const report = typeof wc.report === "string" ? wc.report : wc.report.url().toString();
results.report = await (await fetch(report)).text();
const tokens = [];
for await (const event of replicate.stream("foretell/hello", {
  input: { name: "Stream", delay: 0.05, repeat: 2 },
})) {
  if (event.event === "output") tokens.push(event.data);
}
results.streamed = tokens;

const account = await replicate.accounts.current();
const deployment = await replicate.deployments.create({
  name: "js-app",
  model: "foretell/hello",
  version: model.latest_version.id,
  hardware: "cpu",
  min_instances: 0,
  max_instances: 1,
});
const updated = await replicate.deployments.update(account.username, "js-app", {
  max_instances: 2,
});
const listed = await replicate.deployments.list();
const got = await replicate.deployments.get(account.username, "js-app");
const through = await replicate.deployments.predictions.create(account.username, "js-app", {
  input: { name: "Deployed", delay: 0, repeat: 1 },
  wait: 30,
});
results.deployment = {
  created: [deployment.owner === account.username, deployment.current_release.number],
  updated: [updated.current_release.number, updated.current_release.configuration.max_instances],
  listed: listed.results.map((d) => d.name),
  got: got.current_release.number,
  prediction: [through.status, through.output.join(""), through.deployment === `${account.username}/js-app`],
  deleted: await replicate.deployments.delete(account.username, "js-app"),
};

console.log(JSON.stringify(results));
