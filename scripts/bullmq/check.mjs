// BullMQ framework check: runs a real BullMQ workload against the server on 127.0.0.1:$PORT and
// asserts that every job ends exactly as it does on Redis.
//
//   PORT=7000 node check.mjs
//
// Queues (all under a fresh key prefix, so a reused server is fine):
//   main  - 8 concurrent slots: plain jobs (some removeOnComplete), delayed jobs, jobs that fail 1-2
//           times and then succeed (attempts 3, fixed backoff 100 ms), jobs that fail for good, and the
//           parents and children of two flows (FlowProducer); QueueEvents listens for completed/failed.
//   kids  - 5 concurrent slots: flow children living in another queue than their parent.
//   prio  - prioritized jobs added before its single-slot worker starts: taken strictly by priority.
//   sched - a job scheduler (every 150 ms, limit 3): exactly 3 runs.
// Exit 0 when all holds, 1 with a list of what failed, 2 when the run exceeded its time bound.
import { FlowProducer, Job, Queue, QueueEvents, Worker } from 'bullmq';

const PORT = Number(process.env.PORT ?? 6379);
const HOST = '127.0.0.1';
const DEADLINE_MS = Number(process.env.BULLMQ_CHECK_TIMEOUT_MS ?? 120_000);
const BACKOFF_MS = 100;
// A delayed job may start this much later than due before it counts as a missed wake-up (the
// worker's own idle poll is 5 s, so a server that never wakes it shows up here).
const DELAY_SLACK_MS = 3_000;

const connection = { host: HOST, port: PORT, maxRetriesPerRequest: null, enableOfflineQueue: true };
const prefix = `strata-check-${process.pid}-${Date.now()}`;
const common = { connection, prefix };

const started = Date.now();
const problems = [];
const expect = (cond, msg) => {
  if (!cond) problems.push(msg);
};
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.log(`[${elapsed()}] ${msg}`);

// Small deterministic generator so every run sees the same workload.
let seed = 20261204;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

let stage = 'connecting';
const clientErrors = [];
let progress = () => `stage: ${stage}; client errors: ${JSON.stringify(clientErrors.slice(0, 5))}`;
const watchdog = setTimeout(() => {
  console.error(`FAIL: the BullMQ check did not finish within ${DEADLINE_MS / 1000} s`);
  console.error(`state at the time-out: ${progress()}`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(2);
}, DEADLINE_MS);

// Per "queue:job id" (ids are counted per queue): start and end times of every processor call.
const calls = new Map();
const callsOf = (queueName, id) => calls.get(`${queueName}:${id}`) ?? [];
const record = (job) => {
  const key = `${job.queueName}:${job.id}`;
  const c = { start: Date.now(), end: 0 };
  if (!calls.has(key)) calls.set(key, []);
  calls.get(key).push(c);
  return c;
};
const prioOrder = [];
let schedRuns = 0;

async function processJob(job) {
  const c = record(job);
  const d = job.data;
  await sleep(randInt(0, 8));
  try {
    switch (d.kind) {
      case 'plain':
        return { i: d.i, doubled: d.i * 2 };
      case 'delayed':
        return { i: d.i, delay: d.delay };
      case 'retry': {
        const n = callsOf(job.queueName, job.id).length;
        if (n <= d.failTimes) throw new Error(`planned failure ${n} of ${d.failTimes}`);
        return { i: d.i, calls: n };
      }
      case 'doomed':
        throw new Error(`doomed ${d.i}`);
      case 'child':
        return d.value;
      case 'parent': {
        const values = Object.values(await job.getChildrenValues());
        return values.reduce((a, b) => a + Number(b), 0);
      }
      case 'prio':
        prioOrder.push(d.i);
        return d.priority;
      case 'tick':
        schedRuns += 1;
        return schedRuns;
      default:
        throw new Error(`unknown job kind ${d.kind}`);
    }
  } finally {
    c.end = Date.now();
  }
}

async function run() {
  const main = new Queue('main', common);
  const kids = new Queue('kids', common);
  const prio = new Queue('prio', common);
  const sched = new Queue('sched', common);
  const flows = new FlowProducer(common);
  // '0-0': read the event stream from its start, so no event is lost to start-up order.
  const events = new QueueEvents('main', { ...common, lastEventId: '0-0' });
  const completedEvents = new Map();
  const failedEvents = new Map();
  events.on('completed', ({ jobId, returnvalue }) => completedEvents.set(jobId, returnvalue));
  events.on('failed', ({ jobId, failedReason }) => failedEvents.set(jobId, failedReason));
  for (const x of [main, kids, prio, sched, flows, events]) x.on('error', (e) => clientErrors.push(e.message));
  await Promise.all([main, kids, prio, sched, flows, events].map((x) => x.waitUntilReady()));
  stage = 'adding jobs';
  log(`connected to ${HOST}:${PORT}, key prefix ${prefix}`);

  // ---- the workload -------------------------------------------------------------------------
  const specs = []; // { queue, id?, name, data, opts, expect: {...} }
  for (let i = 0; i < 60; i++) specs.push({ data: { kind: 'plain', i }, opts: {} });
  for (let i = 0; i < 20; i++) specs.push({ data: { kind: 'plain', i: 100 + i }, opts: { removeOnComplete: true } });
  for (let i = 0; i < 30; i++) {
    const delay = randInt(200, 800);
    specs.push({ data: { kind: 'delayed', i, delay }, opts: { delay } });
  }
  for (let i = 0; i < 30; i++) {
    specs.push({
      data: { kind: 'retry', i, failTimes: 1 + (i % 2) },
      opts: { attempts: 3, backoff: { type: 'fixed', delay: BACKOFF_MS } },
    });
  }
  for (let i = 0; i < 20; i++) {
    const attempts = i % 2 ? 1 : 2;
    specs.push({
      data: { kind: 'doomed', i, attempts },
      opts: { jobId: `doomed-${i}`, attempts, backoff: { type: 'fixed', delay: BACKOFF_MS } },
    });
  }
  // Shuffle, then add half one by one and half in bulk batches (addBulk runs one MULTI).
  for (let i = specs.length - 1; i > 0; i--) {
    const j = randInt(0, i);
    [specs[i], specs[j]] = [specs[j], specs[i]];
  }

  // Prioritized jobs first, before any worker of their queue exists: the order is then exact.
  const prioSpecs = [];
  for (let i = 0; i < 24; i++) prioSpecs.push({ i, priority: randInt(1, 10) });
  await prio.addBulk(prioSpecs.map((p) => ({ name: 'prio', data: { kind: 'prio', ...p }, opts: { priority: p.priority } })));
  const expectedPrio = [...prioSpecs].sort((a, b) => a.priority - b.priority || a.i - b.i).map((p) => p.i);

  const mainWorker = new Worker('main', processJob, { ...common, concurrency: 8 });
  const kidsWorker = new Worker('kids', processJob, { ...common, concurrency: 5 });
  const prioWorker = new Worker('prio', processJob, { ...common, concurrency: 1 });
  const schedWorker = new Worker('sched', processJob, { ...common, concurrency: 1 });
  const workers = [mainWorker, kidsWorker, prioWorker, schedWorker];
  const workerErrors = [];
  for (const w of workers) w.on('error', (e) => workerErrors.push(`${w.name}: ${e.message}`));
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  await sched.upsertJobScheduler('tick', { every: 150, limit: 3 }, { name: 'tick', data: { kind: 'tick' } });

  const added = []; // { spec, id }
  const half = Math.floor(specs.length / 2);
  for (const spec of specs.slice(0, half)) {
    const job = await main.add(spec.data.kind, spec.data, spec.opts);
    added.push({ spec, id: job.id, addedAt: Date.now() });
  }
  for (let k = half; k < specs.length; k += 25) {
    const batch = specs.slice(k, k + 25);
    const before = Date.now();
    const jobs = await main.addBulk(batch.map((s) => ({ name: s.data.kind, data: s.data, opts: s.opts })));
    jobs.forEach((job, n) => added.push({ spec: batch[n], id: job.id, addedAt: before }));
  }

  // Flow A: parent in main, 5 children in main and 3 in kids. Flow B: parent in main, one child in
  // kids that is itself the parent of 4 children in main.
  const flowA = await flows.add({
    name: 'parent', queueName: 'main', data: { kind: 'parent', flow: 'A' },
    children: [
      ...[1, 2, 3, 4, 5].map((v) => ({ name: 'child', queueName: 'main', data: { kind: 'child', value: v } })),
      ...[10, 20, 30].map((v) => ({ name: 'child', queueName: 'kids', data: { kind: 'child', value: v } })),
    ],
  });
  const flowB = await flows.add({
    name: 'parent', queueName: 'main', data: { kind: 'parent', flow: 'B' },
    children: [{
      name: 'mid', queueName: 'kids', data: { kind: 'parent', flow: 'B-mid' },
      children: [100, 200, 300, 400].map((v) => ({ name: 'child', queueName: 'main', data: { kind: 'child', value: v } })),
    }],
  });
  log(`added ${added.length} jobs to main, ${prioSpecs.length} to prio, 2 flows (17 jobs), 1 scheduler`);

  // ---- wait for the expected end state ----------------------------------------------------------
  const removedOnComplete = added.filter((a) => a.spec.opts.removeOnComplete).length;
  const doomed = added.filter((a) => a.spec.data.kind === 'doomed').length;
  const mainCompleted = added.length - removedOnComplete - doomed + 6 + 5;
  const expected = {
    main: { completed: mainCompleted, failed: doomed },
    kids: { completed: 4, failed: 0 },
    prio: { completed: prioSpecs.length, failed: 0 },
    sched: { completed: 3, failed: 0 },
  };
  const queues = { main, kids, prio, sched };
  const states = ['completed', 'failed', 'delayed', 'wait', 'active', 'waiting-children', 'prioritized', 'paused'];
  const counts = {};
  const readCounts = async () => {
    for (const [name, q] of Object.entries(queues)) counts[name] = await q.getJobCounts(...states);
  };
  const settled = () =>
    Object.entries(expected).every(([name, e]) =>
      states.every((s) => (counts[name]?.[s] ?? -1) === (e[s] ?? 0)));
  const expectedEvents = mainCompleted + removedOnComplete;
  const mismatches = () =>
    Object.entries(expected).flatMap(([name, e]) =>
      states.filter((st) => (counts[name]?.[st] ?? -1) !== (e[st] ?? 0))
        .map((st) => `${name} ${st} ${counts[name]?.[st] ?? '?'} (expected ${e[st] ?? 0})`));
  progress = () =>
    `job counts off: ${mismatches().join(', ') || 'none'}; ` +
    `QueueEvents saw ${completedEvents.size}/${expectedEvents} completed and ${failedEvents.size}/${doomed} failed; ` +
    `worker errors: ${JSON.stringify(workerErrors.slice(0, 5))}; client errors: ${JSON.stringify(clientErrors.slice(0, 5))}`;
  for (;;) {
    await readCounts();
    if (settled() && completedEvents.size >= expectedEvents && failedEvents.size >= doomed) break;
    await sleep(100);
  }
  // Nothing may run after the end state: no extra attempt, no fourth scheduler run.
  const callsAtEnd = [...calls.values()].reduce((a, c) => a + c.length, 0);
  await sleep(600);
  await readCounts();
  const callsAfter = [...calls.values()].reduce((a, c) => a + c.length, 0);
  expect(callsAfter === callsAtEnd, `${callsAfter - callsAtEnd} processor calls happened after the end state`);
  expect(settled(), `job counts changed after the end state: ${mismatches().join(', ')}`);
  log(`end state reached: ${JSON.stringify(counts)}`);

  // ---- per-job checks -----------------------------------------------------------------------
  for (const { spec, id } of added) {
    const d = spec.data;
    const what = `job ${id} (${d.kind} ${d.i})`;
    const c = callsOf('main', id);
    const job = await Job.fromId(main, id);
    if (spec.opts.removeOnComplete) {
      expect(job === undefined, `${what}: removeOnComplete job still exists`);
      expect(c.length === 1, `${what}: processed ${c.length} times, expected once`);
      expect(completedEvents.has(id), `${what}: QueueEvents saw no 'completed' event`);
      continue;
    }
    if (!job) {
      problems.push(`${what}: job is gone`);
      continue;
    }
    const state = await job.getState();
    if (d.kind === 'doomed') {
      expect(state === 'failed', `${what}: state ${state}, expected failed`);
      expect(job.failedReason === `doomed ${d.i}`, `${what}: failedReason ${JSON.stringify(job.failedReason)}`);
      expect(job.attemptsMade === d.attempts, `${what}: attemptsMade ${job.attemptsMade}, expected ${d.attempts}`);
      expect(c.length === d.attempts, `${what}: processed ${c.length} times, expected ${d.attempts}`);
      expect(failedEvents.get(id) === `doomed ${d.i}`, `${what}: QueueEvents 'failed' ${JSON.stringify(failedEvents.get(id))}`);
      expect(!completedEvents.has(id), `${what}: QueueEvents saw 'completed' for a failed job`);
      continue;
    }
    expect(state === 'completed', `${what}: state ${state}, expected completed`);
    expect(!failedEvents.has(id), `${what}: QueueEvents saw 'failed' for a job that completed`);
    const attempts = d.kind === 'retry' ? d.failTimes + 1 : 1;
    expect(c.length === attempts, `${what}: processed ${c.length} times, expected ${attempts}`);
    expect(job.attemptsMade === attempts, `${what}: attemptsMade ${job.attemptsMade}, expected ${attempts}`);
    const want =
      d.kind === 'plain' ? { i: d.i, doubled: d.i * 2 }
        : d.kind === 'delayed' ? { i: d.i, delay: d.delay }
          : { i: d.i, calls: attempts };
    expect(JSON.stringify(job.returnvalue) === JSON.stringify(want), `${what}: returnvalue ${JSON.stringify(job.returnvalue)}`);
    expect(JSON.stringify(completedEvents.get(id)) === JSON.stringify(want),
      `${what}: QueueEvents 'completed' returnvalue ${JSON.stringify(completedEvents.get(id))}`);
    // processedOn is the worker's clock when it asked for a job and timestamp the producer's when
    // it added one: two concurrent requests on two connections, which a server may serve in
    // either order (Strata runs a script that waits for a key lock after later arrivals), so
    // the worker's clock may read a millisecond or so before the add.
    expect(job.finishedOn >= job.processedOn && job.processedOn + 10 >= job.timestamp,
      `${what}: timestamps out of order (added ${job.timestamp}, processed ${job.processedOn}, finished ${job.finishedOn})`);
    if (d.kind === 'delayed' && c.length) {
      const due = job.timestamp + d.delay;
      expect(c[0].start >= due, `${what}: started ${due - c[0].start} ms before its delay of ${d.delay} ms ran out`);
      expect(c[0].start <= due + DELAY_SLACK_MS, `${what}: started ${c[0].start - due} ms after it was due`);
    }
    if (d.kind === 'retry') {
      for (let k = 1; k < c.length; k++) {
        const gap = c[k].start - c[k - 1].end;
        expect(gap >= BACKOFF_MS, `${what}: attempt ${k + 1} began ${gap} ms after attempt ${k} failed (backoff ${BACKOFF_MS} ms)`);
      }
    }
  }

  // Flows: children first, parents sum their children's values.
  const checkFlow = async (node, queue, want) => {
    const job = await Job.fromId(queue, node.job.id);
    const what = `flow job ${node.job.id} (${node.job.name} in ${node.job.queueName})`;
    if (!job) return problems.push(`${what}: job is gone`);
    expect((await job.getState()) === 'completed', `${what}: state ${await job.getState()}`);
    expect(Number(job.returnvalue) === want, `${what}: returnvalue ${job.returnvalue}, expected ${want}`);
    const mine = callsOf(node.job.queueName, node.job.id);
    expect(mine.length === 1, `${what}: processed ${mine.length} times`);
    for (const child of node.children ?? []) {
      const cc = callsOf(child.job.queueName, child.job.id);
      const childEnd = Math.max(...cc.map((x) => x.end));
      expect(mine.length && cc.length && mine[0].start >= childEnd, `${what}: started before its child ${child.job.id} finished`);
    }
  };
  await checkFlow(flowA, main, 75);
  for (const ch of flowA.children) await checkFlow(ch, ch.job.queueName === 'main' ? main : kids, ch.job.data.value);
  await checkFlow(flowB, main, 1000);
  const mid = flowB.children[0];
  await checkFlow(mid, kids, 1000);
  for (const ch of mid.children) await checkFlow(ch, main, ch.job.data.value);

  // Priorities: one slot, all jobs present before the worker started -> strict order.
  expect(JSON.stringify(prioOrder) === JSON.stringify(expectedPrio),
    `prioritized jobs ran in order ${prioOrder.join(',')}, expected ${expectedPrio.join(',')}`);

  expect(schedRuns === 3, `job scheduler ran ${schedRuns} times, expected 3 (limit 3)`);
  await sched.removeJobScheduler('tick');
  expect((await sched.getJobSchedulersCount()) === 0, 'job scheduler still listed after removeJobScheduler');

  expect(workerErrors.length === 0, `workers reported errors: ${workerErrors.join('; ')}`);
  expect(clientErrors.length === 0, `queues reported errors: ${clientErrors.join('; ')}`);

  await Promise.all(workers.map((w) => w.close()));
  await Promise.all([events.close(), flows.close(), main.close(), kids.close(), prio.close(), sched.close()]);

  const jobs = added.length + prioSpecs.length + 17 + 3;
  if (problems.length) {
    console.error(`FAIL: BullMQ check found ${problems.length} problems (${jobs} jobs, ${elapsed()}):`);
    for (const p of problems) console.error(`  - ${p}`);
    return 1;
  }
  console.log(`OK: BullMQ check passed: ${jobs} jobs, ${callsAfter} processor calls, ${elapsed()}`);
  return 0;
}

run().then(
  (code) => {
    clearTimeout(watchdog);
    process.exit(code);
  },
  (err) => {
    console.error(`FAIL: BullMQ check aborted: ${err?.stack ?? err}`);
    console.error(`state: ${progress()}`);
    process.exit(1);
  },
);
