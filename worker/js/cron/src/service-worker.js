// The same Worker in service-worker syntax: `addEventListener("scheduled")`, bindings as
// globals. The yearly cron shows a failing run: noRetry() and a rejected waitUntil promise.
addEventListener("scheduled", (event) => {
  if (event.cron === "0 0 1 1 *") {
    event.noRetry();
    event.waitUntil(Promise.reject(new Error("the yearly job failed")));
    return;
  }
  const run = {
    cron: event.cron,
    scheduledTime: event.scheduledTime,
    ranAt: Date.now(),
    syntax: "service-worker",
  };
  event.waitUntil(ARTICLES.put(`cron-run:${event.scheduledTime}`, JSON.stringify(run)));
});

addEventListener("fetch", (event) => {
  event.respondWith(
    (async () => {
      const t = new URL(event.request.url).searchParams.get("t");
      const run = await ARTICLES.get(`cron-run:${t}`);
      return new Response(run ?? "none", { status: run ? 200 : 404 });
    })(),
  );
});
