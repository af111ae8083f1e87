/**
 * `ping`: connect once (no retries), check that the server answers, and show what its welcome announces (nothing
 * with `--quiet`: the exit code says whether it answered).
 */
import type { Io } from '../cli-io';
import { ExitCode } from '../errors';
import { Link } from '../link';
import { resolveRetry, resolveTarget, type ConnectionFlags } from '../options';

export async function pingCommand(flags: ConnectionFlags, io: Io): Promise<ExitCode> {
  const target = await resolveTarget(flags, io.env);
  const link = new Link(target, { policy: { ...resolveRetry(flags, io.env), retries: 0 }, signal: io.signal });
  try {
    const client = await link.open();
    await client.ping();
    const w = client.welcome;
    if (flags.json) {
      io.stdout.write(
        `${JSON.stringify({ ok: true, address: link.address, agent: w.agent, serverId: w.serverId, version: w.version, formats: w.formats, recipient: w.encryption.recipient ?? null, limits: w.limits })}\n`,
      );
    } else if (!flags.quiet) {
      io.stdout.write(
        `${link.address} answered: ${w.agent} (server ${w.serverId}, protocol ${w.version}); formats ${w.formats.join(', ')}; ` +
          `${w.encryption.recipient ? `age recipient ${w.encryption.recipient}` : 'no age recipient'}\n`,
      );
    }
    return ExitCode.Ok;
  } finally {
    await link.close();
  }
}
