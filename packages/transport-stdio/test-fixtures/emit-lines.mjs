// Writes the lines described by argv[2] (a JSON array) to stdout, then waits for stdin to end.
// Each item is a string (written as is, followed by "\n") or { fill: "x", bytes: n } (a line of n copies of "x").
const items = JSON.parse(process.argv[2] ?? '[]');
for (const item of items) {
  const line = typeof item === 'string' ? item : item.fill.repeat(item.bytes);
  process.stdout.write(line + '\n');
}
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
