// Fast path: the worker script for runs from source (tests, benchmarks; see threads.ts); the
// bundled CLI serves workers from its own file.
import { serveRatingsWorker } from "./serve-worker";

serveRatingsWorker();
