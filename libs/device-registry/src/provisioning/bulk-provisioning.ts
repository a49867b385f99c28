import type { TenantDirectory } from '@latchkey/config';
import { type Actor, type BulkRowOutcome, ContractError, NewDevice } from '@latchkey/contracts';
import { describeIssues } from '@latchkey/messaging';
import { Logger } from '@nestjs/common';
import { type DeviceStore, serialTakenMessage } from '../devices/device-store.js';
import { type DevicePreparation, insertDevices, type PreparedDevice } from './device-preparation.js';

interface Candidate {
  row: number;
  prepared: PreparedDevice;
}

/**
 * Many devices per request (a chunk of an upload), with a report per row. A row is validated on its
 * own (`NewDevice`, then what DevicePreparation checks); a serial seen earlier in the chunk or already
 * in the registry is `skipped` (with the existing device), a decommissioned device's serial `rejected`.
 * The good rows then go in ONE transaction of a few multi-row inserts, each row with its credentials,
 * claim code, audit record and event. Should that transaction fail, every row is retried in its own,
 * so that one bad row cannot sink the others: each row is created entirely or not at all.
 */
export class BulkProvisioning {
  private readonly logger = new Logger('BulkProvisioning');

  constructor(
    private readonly store: DeviceStore,
    private readonly tenants: TenantDirectory,
    private readonly preparation: DevicePreparation,
  ) {}

  async provision(tenant: string, actor: Actor, rows: readonly unknown[], firstRow: number): Promise<BulkRowOutcome[]> {
    this.tenants.get(tenant);
    const { outcomes, candidates, duplicates } = this.validate(tenant, actor, rows, firstRow);

    // Serials already in the registry: skipped, or rejected for good when their device was decommissioned.
    const existing = await this.store.prisma.device.findMany({
      where: { tenant, serial: { in: candidates.map((c) => c.prepared.device.serial) } },
      select: { id: true, serial: true, status: true },
    });
    const taken = new Map(existing.map((device) => [device.serial, device]));
    const fresh: Candidate[] = [];
    for (const candidate of candidates) {
      const device = taken.get(candidate.prepared.device.serial);
      if (device) outcomes.push(this.takenOutcome(candidate, device.id, device.status === 'decommissioned'));
      else fresh.push(candidate);
    }

    // The rest are created; one taken meanwhile by a concurrent request is reported like the above.
    const created = await this.insert(tenant, fresh);
    for (const candidate of fresh) {
      if (created.has(candidate.prepared.device.id)) outcomes.push(createdOutcome(candidate));
      else outcomes.push(await this.notCreated(tenant, candidate));
    }
    // A serial seen earlier in the chunk is a duplicate of whatever that row became.
    const byRow = new Map(outcomes.map((outcome) => [outcome.row, outcome]));
    for (const { row, of } of duplicates) {
      const first = byRow.get(of.row)!;
      const reason = `duplicate of row ${of.row}`;
      outcomes.push(
        first.outcome === 'rejected'
          ? { row, outcome: 'rejected', serial: first.serial, reason: `${reason}: ${first.reason}` }
          : { row, outcome: 'skipped', serial: first.serial, deviceId: first.deviceId, reason },
      );
    }
    return outcomes.sort((a, b) => a.row - b.row);
  }

  /** Each row on its own: rejected, a duplicate of an earlier row of the chunk, or a candidate for creation. */
  private validate(tenant: string, actor: Actor, rows: readonly unknown[], firstRow: number) {
    const outcomes: BulkRowOutcome[] = [];
    const candidates: Candidate[] = [];
    const duplicates: { row: number; of: Candidate }[] = [];
    const firstBySerial = new Map<string, Candidate>();
    for (const [index, raw] of rows.entries()) {
      const row = firstRow + index;
      const parsed = NewDevice.safeParse(raw);
      if (!parsed.success) {
        outcomes.push({ row, outcome: 'rejected', serial: serialOf(raw), reason: describeIssues(parsed.error) });
        continue;
      }
      const earlier = firstBySerial.get(parsed.data.serial);
      if (earlier) {
        duplicates.push({ row, of: earlier });
        continue;
      }
      try {
        const candidate = { row, prepared: this.preparation.prepare(tenant, actor, parsed.data, { bulk: { row } }) };
        firstBySerial.set(parsed.data.serial, candidate);
        candidates.push(candidate);
      } catch (error) {
        if (!(error instanceof ContractError)) throw error;
        outcomes.push({ row, outcome: 'rejected', serial: parsed.data.serial, reason: error.message });
      }
    }
    return { outcomes, candidates, duplicates };
  }

  /** The ids created: all of them in one transaction, or each in its own when that fails. */
  private async insert(tenant: string, candidates: Candidate[]): Promise<Set<string>> {
    if (!candidates.length) return new Set();
    const prepared = candidates.map((c) => c.prepared);
    try {
      return await this.store.write((tx) => insertDevices(tx, prepared));
    } catch (error) {
      this.logger.warn(`bulk insert of ${prepared.length} devices for ${tenant} failed (${(error as Error).message.split('\n')[0]}); retrying row by row`);
    }
    const created = new Set<string>();
    for (const candidate of candidates) {
      try {
        for (const id of await this.store.write((tx) => insertDevices(tx, [candidate.prepared]))) created.add(id);
      } catch (error) {
        this.logger.warn(`row ${candidate.row} (serial ${candidate.prepared.device.serial}) was not stored: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    return created;
  }

  /** A row that was valid but not inserted: its serial was taken concurrently, or the database refused it. */
  private async notCreated(tenant: string, candidate: Candidate): Promise<BulkRowOutcome> {
    const taken = await this.store.serialTaken(tenant, candidate.prepared.device.serial);
    if (taken) return this.takenOutcome(candidate, taken.deviceId, taken.decommissioned);
    return { row: candidate.row, outcome: 'rejected', serial: candidate.prepared.device.serial, reason: 'the device could not be stored' };
  }

  private takenOutcome({ row, prepared }: Candidate, deviceId: string, decommissioned: boolean): BulkRowOutcome {
    const { serial } = prepared.device;
    const reason = serialTakenMessage(serial, { decommissioned });
    return decommissioned ? { row, outcome: 'rejected', serial, reason } : { row, outcome: 'skipped', serial, deviceId, reason };
  }
}

function createdOutcome({ row, prepared }: Candidate): BulkRowOutcome {
  return {
    row,
    outcome: 'created',
    serial: prepared.device.serial,
    deviceId: prepared.device.id,
    ...(prepared.claimCode ? { claimCode: prepared.claimCode.view } : {}),
    ...(Object.keys(prepared.secrets).length ? { secrets: prepared.secrets } : {}),
  };
}

/** A rejected row's serial when it has a usable one (for the report). */
function serialOf(raw: unknown): string | null {
  const serial = (raw as { serial?: unknown } | null)?.serial;
  return typeof serial === 'string' && serial.length <= 200 ? serial : null;
}
