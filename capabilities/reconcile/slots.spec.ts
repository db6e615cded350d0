import { Slots } from "./slots";

describe("Slots", () => {
  it("runs at most `size` tasks at once, each in its turn, and gives results in the order of the items", async () => {
    const slots = new Slots(3);
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const results = await slots.all([1, 2, 3, 4, 5, 6, 7], async n => {
      inFlight++;
      most = Math.max(most, inFlight);
      started.push(n);
      // Later items finish first, so that the results' order is not the finishing order.
      await new Promise(r => setTimeout(r, 8 - n));
      inFlight--;
      return n * 10;
    });
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(most).toBe(3);
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("gives the slot back when a task throws", async () => {
    const slots = new Slots(1);
    await expect(slots.run(async () => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    await expect(slots.run(async () => "next")).resolves.toBe("next");
  });

  it("refuses a size that is not a positive integer", () => {
    expect(() => new Slots(0)).toThrow("Slots: size must be a positive integer, got 0");
  });
});
