/*
 * Stand-in for tools whose daemon is not built yet: says so and exits 69 (EX_UNAVAILABLE),
 * so scripts fail loudly instead of believing a no-op succeeded.
 */
const tool = process.argv[2] ?? 'postern';
process.stderr.write(`${tool}: not implemented yet in Postern: its daemon is not built (see README.md, "Status")\n`);
process.exitCode = 69;
