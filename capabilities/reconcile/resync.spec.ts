import { DEFAULT_RESYNC_MS, resyncInterval } from "./resync";

describe("resyncInterval", () => {
  it("is 10 minutes when AI_WORKLOADS_RESYNC_SECONDS is not set", () => {
    expect(resyncInterval(undefined)).toEqual({ ms: 600_000 });
    expect(resyncInterval("")).toEqual({ ms: DEFAULT_RESYNC_MS });
  });

  it("takes whole seconds", () => {
    expect(resyncInterval("5")).toEqual({ ms: 5_000 });
    expect(resyncInterval(" 30 ")).toEqual({ ms: 30_000 });
  });

  it.each(["0", "-1", "1.5", "5s", "abc"])("keeps the default for %j and names the value ignored", value => {
    expect(resyncInterval(value)).toEqual({ ms: DEFAULT_RESYNC_MS, ignored: value });
  });
});
