// Load generator, run as its own process so that it does not share the controller's CPU
// accounting: POSTs one AdmissionReview body at a fixed concurrency for a fixed time over
// HTTPS keep-alive, and prints {requests, seconds, rps, p50Ms, p99Ms, errors} as JSON.
//   node load.mjs <url> <body.json> <ca.pem> <concurrency> <seconds>
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";

const [url, bodyFile, caFile, concurrencyArg, secondsArg] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const ca = readFileSync(caFile);
const concurrency = Number(concurrencyArg);
const seconds = Number(secondsArg);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca });
const target = new URL(url);
if (!["127.0.0.1", "localhost", "::1"].includes(target.hostname)) throw new Error("load goes to loopback only");

const latencies = [];
let errors = 0;
const deadline = performance.now() + seconds * 1000;

function once() {
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
  while (performance.now() < deadline) await once();
}

const began = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsed = (performance.now() - began) / 1000;
latencies.sort((a, b) => a - b);
const pick = q => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
process.stdout.write(`${JSON.stringify({ requests: latencies.length, seconds: elapsed, rps: latencies.length / elapsed, p50Ms: pick(0.5), p99Ms: pick(0.99), errors })}\n`);
agent.destroy();
