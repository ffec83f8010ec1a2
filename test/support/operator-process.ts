// Tests and benchmarks spawn the operator with the same starter as `npm start` (src/local/operator-process.ts).
export {
  operatorArgs,
  procUsage,
  QUIET_QUEUE_POLL,
  startOperatorProcess,
  type LeaderElectionOptions,
  type OperatorProcess,
  type OperatorProcessOptions,
} from '../../src/local/operator-process.ts';
