// Load generator, run as its own process so that it does not share the controller's CPU
// accounting: POSTs one AdmissionReview body at a fixed concurrency for a fixed time over
// HTTPS keep-alive, and prints {requests, seconds, rps, p50Ms, p99Ms, errors} as JSON.
// With several URLs (comma-separated) each worker sends to them in turn, as the API server
// calls the mutating and then the validating webhook for one object.
//   node load.mjs <url[,url…]> <body.json> <ca.pem> <concurrency> <seconds>
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";

const [urlList, bodyFile, caFile, concurrencyArg, secondsArg] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const ca = readFileSync(caFile);
const concurrency = Number(concurrencyArg);
const seconds = Number(secondsArg);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca });
const targets = urlList.split(",").map(u => new URL(u));
if (targets.some(t => !["127.0.0.1", "localhost", "::1"].includes(t.hostname))) throw new Error("load goes to loopback only");

const latencies = [];
let errors = 0;
const deadline = performance.now() + seconds * 1000;

function once(target) {
  return new Promise(resolve => {
    const start = performance.now();
    const req = request(target, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": body.length } }, res => {
      res.resume();
      res.on("end", () => {
        if (res.statusCode === 200) latencies.push(performance.now() - start);
        else errors++;
        resolve();
      });
    });
    req.on("error", () => {
      errors++;
      resolve();
    });
    req.end(body);
  });
}

async function worker() {
  for (let i = 0; performance.now() < deadline; i++) await once(targets[i % targets.length]);
}

const began = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsed = (performance.now() - began) / 1000;
latencies.sort((a, b) => a - b);
const pick = q => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
process.stdout.write(`${JSON.stringify({ requests: latencies.length, seconds: elapsed, rps: latencies.length / elapsed, p50Ms: pick(0.5), p99Ms: pick(0.99), errors })}\n`);
agent.destroy();
