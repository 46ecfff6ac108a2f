/**
 * Preloaded into the daemon process by the bench (`node --expose-gc --import dist/bench/memory-probe.js
 * dist/courier/main.js daemon`): on SIGUSR2 it runs a full GC twice and writes
 * process.memoryUsage() (rss, heapTotal, heapUsed, external, arrayBuffers) as JSON to
 * $COURIER_BENCH_MEMORY_FILE, so the bench can say whether the daemon's RSS is JS heap, Buffers or
 * neither. It changes nothing else in the daemon.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.COURIER_BENCH_MEMORY_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    writeFileSync(file, JSON.stringify({ ...process.memoryUsage(), gc: Boolean(gc) }));
  });
}
