/**
 * Records sync outcomes into the status document and writes it after each node, one write at a
 * time, so the file on disk is always complete and at most one node behind.
 */
import type { NodeRole } from '../registry/model.js';
import { nextNodeStatus, type NodeStatus, type SyncOutcome } from './next-node-status.js';
import { readStatusFile, writeStatusFile, type StatusDocument } from './status-file.js';

/** In-memory status with serialized atomic writes. */
export class StatusRecorder {
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    readonly doc: StatusDocument,
    private readonly errorAfter: number,
    private readonly clock: () => Date,
  ) {}

  /** Load the status file (missing = empty). */
  static async open(file: string, options: { errorAfter: number; clock?: () => Date }): Promise<StatusRecorder> {
    return new StatusRecorder(file, await readStatusFile(file), options.errorAfter, options.clock ?? (() => new Date()));
  }

  /** Apply one outcome and queue a write; resolves when the file holds it. */
  record(node: { name: string; role: NodeRole }, outcome: SyncOutcome): Promise<NodeStatus> {
    const next = nextNodeStatus(this.doc.nodes[node.name], { node: node.name, role: node.role }, outcome, {
      now: this.clock(),
      errorAfter: this.errorAfter,
    });
    this.doc.nodes[node.name] = next;
    return this.flush().then(() => next);
  }

  /** Drop nodes that are no longer in the registry. */
  prune(names: ReadonlySet<string>): void {
    for (const name of Object.keys(this.doc.nodes)) if (!names.has(name)) delete this.doc.nodes[name];
  }

  /** Queue a write of the current document. */
  flush(revision?: string): Promise<void> {
    if (revision) this.doc.revision = revision;
    const run = this.queue.then(() => {
      this.doc.updated = this.clock().toISOString();
      return writeStatusFile(this.file, this.doc);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
