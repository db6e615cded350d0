// Load generator, run as its own process so that it does not share the controller's CPU
// accounting: POSTs one AdmissionReview body at a fixed concurrency for a fixed time over
// HTTPS keep-alive, and prints {requests, seconds, rps, p50Ms, p99Ms, errors} as JSON.
// With several URLs (comma-separated) each worker sends to them in turn, as the API server
// calls the mutating and then the validating webhook for one object. Each worker is a client
// writing its own Deployment: the object's name gets the worker's number.
//   node load.mjs <url[,url…]> <body.json> <ca.pem> <concurrency> <seconds>
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";

const [urlList, bodyFile, caFile, concurrencyArg, secondsArg] = process.argv.slice(2);
const review = JSON.parse(readFileSync(bodyFile, "utf8"));
const bodyOf = worker => {
  const name = `${review.request.name}-${worker}`;
  const object = { ...review.request.object, metadata: { ...review.request.object.metadata, name } };
  return Buffer.from(JSON.stringify({ ...review, request: { ...review.request, name, object } }));
};
const ca = readFileSync(caFile);
const concurrency = Number(concurrencyArg);
const seconds = Number(secondsArg);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca });
const targets = urlList.split(",").map(u => new URL(u));
if (targets.some(t => !["127.0.0.1", "localhost", "::1"].includes(t.hostname))) throw new Error("load goes to loopback only");

const latencies = [];
let errors = 0;
const deadline = performance.now() + seconds * 1000;

function once(target, body) {
  return new Promise(resolve => {
    const start = performance.now();
    const req = request(
      target,
      { method: "POST", agent, headers: { "content-type": "application/json", "content-length": body.length } },
      res => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode === 200) latencies.push(performance.now() - start);
          else errors++;
          resolve();
        });
      },
    );
    req.on("error", () => {
      errors++;
      resolve();
    });
    req.end(body);
  });
}

async function worker(n) {
  const body = bodyOf(n);
  for (let i = 0; performance.now() < deadline; i++) await once(targets[i % targets.length], body);
}

const began = performance.now();
await Promise.all(Array.from({ length: concurrency }, (_, n) => worker(n)));
const elapsed = (performance.now() - began) / 1000;
latencies.sort((a, b) => a - b);
const pick = q => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, seconds: elapsed, rps: latencies.length / elapsed, p50Ms: pick(0.5), p99Ms: pick(0.99), errors })}\n`,
);
agent.destroy();
