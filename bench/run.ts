// The benchmark suite (throughput, latency, fan-out, live logs) arrives with the dispatcher;
// until then `npm run bench` says so instead of failing.
process.stdout.write(
  `${JSON.stringify({ scenario: 'none', note: 'no benchmarks yet: they need the dispatcher' })}\n`,
);
