// Worker entry for runs from source (tests, benchmarks); the bundled CLI serves workers
// from its own file.
import { serveRatingsWorker } from "./serve-worker";

serveRatingsWorker();
