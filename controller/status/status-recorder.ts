/**
 * Records sync outcomes into the status document and writes it atomically. Writes are coalesced:
 * while one write is in flight, every outcome recorded meanwhile goes into the next single write,
 * so a round over 1,000 nodes costs a handful of writes, not 1,000 rewrites of the whole file. A
 * `record` resolves once a write holding its outcome is on disk; the file is always complete.
 */
import type { NodeRole } from '../registry/model.js';
import { nextNodeStatus, type NodeStatus, type SyncOutcome } from './next-node-status.js';
import { readStatusFile, writeStatusFile, type StatusDocument } from './status-file.js';

/** In-memory status with coalesced atomic writes. */
export class StatusRecorder {
  private writing: Promise<void> | undefined;
  private next: Promise<void> | undefined;

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

  /** Queue a write of the current document (one write for everything queued while another runs). */
  flush(revision?: string): Promise<void> {
    if (revision) this.doc.revision = revision;
    if (!this.writing) return (this.writing = this.write());
    // one write is on its way: everything recorded from now on rides the one after it
    this.next ??= this.writing.then(
      () => this.write(),
      () => this.write(),
    );
    return this.next;
  }

  private write(): Promise<void> {
    this.next = undefined;
    this.doc.updated = this.clock().toISOString();
    const run = writeStatusFile(this.file, this.doc);
    this.writing = run;
    const done = () => {
      if (this.writing === run) this.writing = undefined;
    };
    run.then(done, done);
    return run;
  }
}
