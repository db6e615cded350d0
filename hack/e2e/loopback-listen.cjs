// Preloaded into the module process by the e2e harness (`node --require`): Pepr 1.1.4 listens on
// port 3000 on every interface, with no setting for either. This moves a listen on a bare port
// to 127.0.0.1:$AI_WORKLOADS_E2E_PORT, so the test module is reachable only over loopback and
// several runs (or a developer's `pepr dev`) do not fight over port 3000.
"use strict";
const net = require("node:net");

const port = Number(process.env.AI_WORKLOADS_E2E_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error("loopback-listen: set AI_WORKLOADS_E2E_PORT");
const host = process.env.AI_WORKLOADS_E2E_HOST || "127.0.0.1";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  // Only the form Pepr uses, listen(<number>[, cb]); anything else is passed through.
  if (typeof args[0] === "number") {
    const cb = typeof args[args.length - 1] === "function" ? args[args.length - 1] : undefined;
    return cb ? listen.call(this, port, host, cb) : listen.call(this, port, host);
  }
  return listen.apply(this, args);
};
