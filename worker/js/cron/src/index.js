// A Cron Trigger in module syntax: each run records itself in KV under its own key (one key per
// run, so runs a minute apart never write the same key within KV's one write per second), and
// a waitUntil write counts as part of the run.
export default {
  async scheduled(controller, env, ctx) {
    const run = {
      cron: controller.cron,
      scheduledTime: controller.scheduledTime,
      ranAt: Date.now(),
      syntax: "module",
    };
    await env.ARTICLES.put(`cron-run:${controller.scheduledTime}`, JSON.stringify(run));
    ctx.waitUntil(env.ARTICLES.put(`cron-done:${controller.scheduledTime}`, "1"));
  },

  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/runs") {
      const keys = new URL(request.url).searchParams.getAll("t");
      const runs = [];
      for (const t of keys) {
        const run = await env.ARTICLES.get(`cron-run:${t}`, "json");
        if (run) runs.push({ ...run, done: (await env.ARTICLES.get(`cron-done:${t}`)) === "1" });
      }
      return Response.json(runs);
    }
    return new Response("GET /runs?t=<scheduledTime>&t=... lists recorded cron runs\n", {
      status: 404,
    });
  },
};
