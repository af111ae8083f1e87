// Child process of crypto-vs-age.mjs: runs one encryptFile/decryptFile with @proj/crypto and reports its own
// wall time and peak RSS (process.resourceUsage().maxRSS, KiB) as one JSON line on stdout.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { encryptFile, decryptFile, readIdentityFile, recipientOf } = require('@proj/crypto');

const [mode, inPath, outPath, keyFile, durability] = process.argv.slice(2);
const durable = durability !== 'no-fsync';
const identities = await readIdentityFile(keyFile);
const start = process.hrtime.bigint();
if (mode === 'encrypt') {
  await encryptFile(inPath, outPath, { recipients: [await recipientOf(identities[0])], durable });
} else {
  await decryptFile(inPath, outPath, { identities, durable });
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(`${JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
