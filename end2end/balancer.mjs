// A round-robin load balancer for the end-to-end suite: every request goes to the next of the
// app processes (BACKENDS, comma-separated host:port), as a load balancer without sticky sessions
// would send them. It keeps the Host header (the apps check writes' Origin against it, as behind
// any proxy) and appends the client to X-Forwarded-For (the apps trust it through
// TRUSTED_PROXIES).
//
// `/sim/…` is the exception: the Realtime simulator stands in for OpenAI, one service outside the
// app, so it always goes to the process that serves it (SIM_BACKEND; the other processes mint
// against it with REALTIME_BASE_URL).
//
//   BALANCER_ADDR=127.0.0.1:3000 BACKENDS=127.0.0.1:3001,127.0.0.1:3002 SIM_BACKEND=127.0.0.1:3001 \
//     node end2end/balancer.mjs
//
// On SIGTERM it prints how many requests each backend served and exits.
import http from "node:http";

const [host, port] = (process.env.BALANCER_ADDR ?? "127.0.0.1:3000").split(":");
const backends = (process.env.BACKENDS ?? "").split(",").filter(Boolean).map((addr) => {
  const [hostname, port] = addr.split(":");
  return { addr, hostname, port: Number(port), served: 0 };
});
if (backends.length === 0) {
  console.error("balancer: BACKENDS is empty");
  process.exit(2);
}
const sim = backends.find((b) => b.addr === process.env.SIM_BACKEND) ?? backends[0];
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let next = 0;

const server = http.createServer((req, res) => {
  const backend = req.url.startsWith("/sim/") ? sim : backends[next++ % backends.length];
  backend.served += 1;
  const client = req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "";
  const forwarded = req.headers["x-forwarded-for"];
  const headers = {
    ...req.headers,
    "x-forwarded-for": forwarded ? `${forwarded}, ${client}` : client,
  };
  const upstream = http.request(
    { agent, hostname: backend.hostname, port: backend.port, method: req.method, path: req.url, headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    },
  );
  upstream.on("error", (error) => {
    if (!res.headersSent) {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`balancer: ${backend.addr} did not answer: ${error.message}`);
    } else {
      res.destroy(error);
    }
  });
  req.on("aborted", () => upstream.destroy());
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 30_000;
server.listen(Number(port), host, () => {
  console.log(`balancer: http://${host}:${port} -> ${backends.map((b) => b.addr).join(", ")}`);
});

process.on("SIGTERM", () => {
  for (const b of backends) console.log(`balancer: ${b.addr} served ${b.served}`);
  process.exit(0);
});
