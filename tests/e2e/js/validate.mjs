// Validates one webhook request with the official client's helper.
// Usage: node validate.mjs REQUEST_JSON_FILE SECRET -> prints "true" or "false".
import { readFileSync } from "node:fs";
import { validateWebhook } from "replicate";

const [file, secret] = process.argv.slice(2);
const { headers, body } = JSON.parse(readFileSync(file, "utf8"));
const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
const valid = await validateWebhook({ headers: lower, body }, secret);
console.log(String(valid));
