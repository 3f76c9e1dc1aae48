// Probes: timers, microtask order, scheduler.wait, AbortSignal.timeout, and how the clock moves
// (never its absolute value: the two runtimes' clocks differ).
import { worker } from "./lib.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const probes = {
  "order: sync, microtask, timeout": async () => {
    const seen = [];
    setTimeout(() => seen.push("timeout"), 0);
    queueMicrotask(() => seen.push("microtask"));
    Promise.resolve().then(() => seen.push("then"));
    seen.push("sync");
    await sleep(5);
    return seen;
  },
  "order: timeouts by delay": async () => {
    const seen = [];
    setTimeout(() => seen.push(20), 20);
    setTimeout(() => seen.push(1), 1);
    setTimeout(() => seen.push(10), 10);
    setTimeout(() => seen.push("0b"), 0);
    await sleep(40);
    return seen;
  },
  "setTimeout returns": () => {
    const t = setTimeout(() => {}, 1);
    clearTimeout(t);
    return typeof t;
  },
  "setTimeout extra args": async () => {
    let got;
    setTimeout((a, b) => (got = [a, b]), 0, "x", 2);
    await sleep(5);
    return got;
  },
  "setTimeout string handler": () => {
    try {
      setTimeout("1+1", 0);
      return "accepted";
    } catch (e) {
      return e.name;
    }
  },
  "clearTimeout cancels": async () => {
    let fired = false;
    const t = setTimeout(() => (fired = true), 5);
    clearTimeout(t);
    await sleep(15);
    return fired;
  },
  "clearTimeout bad id": () => clearTimeout("nope"),
  "setInterval three ticks": async () => {
    let n = 0;
    await new Promise((resolve) => {
      const i = setInterval(() => {
        n++;
        if (n === 3) {
          clearInterval(i);
          resolve();
        }
      }, 5);
    });
    return n;
  },
  "Date advances across a timer": async () => {
    const a = Date.now();
    await sleep(30);
    const d = Date.now() - a;
    return d >= 30 && d < 1000;
  },
  "performance.now advances across a timer": async () => {
    const a = performance.now();
    await sleep(20);
    return performance.now() - a >= 20;
  },
  "performance.now equals Date": async () => {
    const a = performance.now();
    const b = Date.now();
    return Math.abs(performance.timeOrigin + a - b) < 1000 ? "close" : "far";
  },
  "scheduler.wait": async () => {
    if (typeof scheduler === "undefined" || typeof scheduler.wait !== "function") return "<none>";
    const a = Date.now();
    const r = await scheduler.wait(10);
    return [r, Date.now() - a >= 10];
  },
  "scheduler.wait abort": async () => {
    if (typeof scheduler === "undefined") return "<none>";
    return scheduler.wait(10, { signal: AbortSignal.abort("stop") });
  },
  "AbortSignal.timeout": async () => {
    const s = AbortSignal.timeout(10);
    await sleep(30);
    return [s.aborted, s.reason?.name, s.reason?.message];
  },
  "AbortSignal.timeout event": async () => {
    const s = AbortSignal.timeout(5);
    const e = await new Promise((resolve) => s.addEventListener("abort", (ev) => resolve(ev.type)));
    return e;
  },
  "unhandled rejection does not break": async () => {
    Promise.reject(new Error("ignored")).catch(() => {});
    await sleep(1);
    return "ok";
  },
  "async generator": async () => {
    async function* g() {
      yield 1;
      await sleep(1);
      yield 2;
    }
    const out = [];
    for await (const v of g()) out.push(v);
    return out;
  },
  "Promise.allSettled order": async () =>
    Promise.allSettled([sleep(10).then(() => "slow"), Promise.reject(new Error("no")), "now"]),
  "Promise.race": async () => Promise.race([sleep(20).then(() => "slow"), sleep(5).then(() => "fast")]),
};

export default worker(probes);
