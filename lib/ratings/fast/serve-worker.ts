/**
 * Fast path: the entry of every ratings worker thread (threads.ts): a worker runs the one
 * task its workerData names. See threads.ts for the benchmark rows.
 */
import { serveBootstrapWorker } from "./parallel-bootstrap";
import { serveVoteFileWorker } from "./parallel-read";
import { serveStyleWorker } from "./parallel-style";

/**
 * Call first in a script passed as `workerScript`: in a ratings worker it does the task
 * and returns true (the script should then do nothing else); elsewhere it returns false.
 */
export function serveRatingsWorker(): boolean {
  return serveVoteFileWorker() || serveBootstrapWorker() || serveStyleWorker();
}
