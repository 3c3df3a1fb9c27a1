// Parse-worker entry for runs from source (tests, benchmarks); the bundled CLI serves
// workers from its own file.
import { serveVoteFileWorker } from "./parallel-read";

serveVoteFileWorker();
