import { runShard } from '../shard/runtime.js';

/** piscina's entry point: one call of this function is one shard, alive for the whole run. */
export default runShard;
