// The Kubernetes version catalog, for root admins: list, add, enable/disable, delete.

import { useEffect, useState } from 'preact/hooks';

import { api, ApiError, list, waitForJob, type Params } from './api';
import { Alert, Field, formatMemory, Modal, StateBadge, toast, usePolling } from './ui';

interface Version {
  id: string;
  name: string;
  semanticversion: string;
  state: string;
  isostate?: string;
  isoname?: string;
  zonename?: string;
  arch?: string;
  supportsha?: boolean;
  supportsautoscaling?: boolean;
  mincpunumber?: number;
  minmemory?: number;
}

export function Versions() {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [error, setError] = useState('');
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<Version | null>(null);
  const [tick, setTick] = useState(0);
  const reload = () => setTick((t) => t + 1);
  usePolling(
    async () => {
      try {
        const all = await list<Version>('listKubernetesSupportedVersions', 'kubernetessupportedversion');
        setVersions(all.sort((a, b) => a.semanticversion.localeCompare(b.semanticversion, undefined, { numeric: true })));
        setError('');
      } catch (e) {
        setError((e as ApiError).text ?? String(e));
      }
    },
    () => (versions?.some((v) => v.isostate && v.isostate !== 'Ready') ? 2000 : 10000),
    [tick],
  );
  const toggle = async (v: Version) => {
    try {
      await api('updateKubernetesSupportedVersion', { id: v.id, state: v.state === 'Enabled' ? 'Disabled' : 'Enabled' });
      reload();
    } catch (e) {
      toast('error', (e as ApiError).text);
    }
  };
  return (
    <section>
      <div class="page-header">
        <div>
          <h1>Kubernetes versions</h1>
          <p class="muted">The versions users may create and upgrade clusters to, each with its binaries ISO.</p>
        </div>
        <button class="button button-primary" onClick={() => setAdding(true)}>
          + Add Kubernetes version
        </button>
      </div>
      {error && <Alert>{error}</Alert>}
      {versions === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <table class="table" data-testid="versions-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Semantic version</th>
              <th>State</th>
              <th>Binaries ISO</th>
              <th>Minimum</th>
              <th>HA</th>
              <th>Autoscaling</th>
              <th>Zone</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.id} data-version={v.semanticversion}>
                <td class="strong">{v.name}</td>
                <td class="mono">{v.semanticversion}</td>
                <td>
                  <StateBadge state={v.state} />
                </td>
                <td>
                  <StateBadge state={v.isostate ?? 'Unknown'} />
                </td>
                <td class="nowrap">
                  {v.mincpunumber} vCPU, {formatMemory(v.minmemory)}
                </td>
                <td>{v.supportsha ? 'Yes' : 'No'}</td>
                <td>{v.supportsautoscaling ? 'Yes' : 'No'}</td>
                <td class="nowrap">{v.zonename ?? 'All zones'}</td>
                <td>
                  <div class="row-actions">
                    <button class="button button-small" onClick={() => toggle(v)}>
                      {v.state === 'Enabled' ? 'Disable' : 'Enable'}
                    </button>
                    <button class="button button-small button-danger" onClick={() => setDeleting(v)}>
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {adding && <AddVersion onClose={() => setAdding(false)} onAdded={reload} />}
      {deleting && (
        <DeleteVersion
          version={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            reload();
          }}
        />
      )}
    </section>
  );
}

function AddVersion({ onClose, onAdded }: { onClose: () => void; onAdded: () => void }) {
  const [f, setF] = useState({
    semanticversion: '',
    name: '',
    zoneid: '',
    url: '',
    checksum: '',
    mincpunumber: '2',
    minmemory: '2048',
    arch: 'x86_64',
    directdownload: false,
  });
  const [zones, setZones] = useState<{ id: string; name: string }[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [serverError, setServerError] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    list('listZones', 'zone').then(setZones, () => {});
  }, []);
  const input = (key: keyof typeof f) => (e: Event) => setF({ ...f, [key]: (e.currentTarget as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!/^\d+\.\d+\.\d+$/.test(f.semanticversion.trim())) errs.semanticversion = 'MAJOR.MINOR.PATCH, e.g. 1.33.1';
    if (!f.url.trim()) errs.url = 'Enter the URL of the binaries ISO.';
    if (!/^\d+$/.test(f.mincpunumber) || Number(f.mincpunumber) < 1) errs.mincpunumber = 'A positive number.';
    if (!/^\d+$/.test(f.minmemory) || Number(f.minmemory) < 1) errs.minmemory = 'A positive number of MiB.';
    setErrors(errs);
    setServerError('');
    if (Object.keys(errs).length) return;
    const params: Params = { ...f, semanticversion: f.semanticversion.trim(), url: f.url.trim() };
    if (!f.directdownload) delete params.directdownload;
    setBusy(true);
    try {
      const r = await api('addKubernetesSupportedVersion', params);
      toast('ok', `Added Kubernetes ${r.kubernetessupportedversion?.semanticversion ?? f.semanticversion}`);
      onAdded();
      onClose();
    } catch (err) {
      setServerError((err as ApiError).text ?? String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="Add Kubernetes version" onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        {serverError && <Alert>{serverError}</Alert>}
        <div class="grid-2">
          <Field label="Semantic version" error={errors.semanticversion}>
            <input name="semanticversion" value={f.semanticversion} onInput={input('semanticversion')} placeholder="1.34.0" />
          </Field>
          <Field label="Name" hint="Optional: v<version> by default">
            <input name="name" value={f.name} onInput={input('name')} />
          </Field>
        </div>
        <Field label="Binaries ISO URL" error={errors.url}>
          <input name="url" value={f.url} onInput={input('url')} placeholder="https://…/setup-v1.34.0.iso" />
        </Field>
        <Field label="Checksum" hint="Optional: MD5, or {SHA-256}hex">
          <input name="checksum" value={f.checksum} onInput={input('checksum')} />
        </Field>
        <div class="grid-2">
          <Field label="Zone">
            <select name="zoneid" value={f.zoneid} onChange={input('zoneid')}>
              <option value="">All zones</option>
              {zones.map((z) => (
                <option key={z.id} value={z.id}>
                  {z.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Architecture">
            <select name="arch" value={f.arch} onChange={input('arch')}>
              <option value="x86_64">x86_64</option>
              <option value="aarch64">aarch64</option>
            </select>
          </Field>
          <Field label="Minimum vCPUs" error={errors.mincpunumber}>
            <input name="mincpunumber" type="number" value={f.mincpunumber} onInput={input('mincpunumber')} />
          </Field>
          <Field label="Minimum memory (MiB)" error={errors.minmemory}>
            <input name="minmemory" type="number" value={f.minmemory} onInput={input('minmemory')} />
          </Field>
        </div>
        <label class="switch">
          <input
            type="checkbox"
            checked={f.directdownload}
            onChange={(e) => setF({ ...f, directdownload: e.currentTarget.checked })}
          />
          <span>Direct download</span>
        </label>
        <div class="form-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={busy}>
            Add version
          </button>
        </div>
      </form>
    </Modal>
  );
}

function DeleteVersion(props: { version: Version; onClose: () => void; onDeleted: () => void }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const remove = async () => {
    setBusy(true);
    setError('');
    try {
      const r = await api('deleteKubernetesSupportedVersion', { id: props.version.id });
      await waitForJob(r.jobid, 500);
      toast('ok', `Deleted ${props.version.name}`);
      props.onDeleted();
    } catch (e) {
      setError((e as ApiError).text ?? String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={`Delete ${props.version.name}?`} onClose={props.onClose}>
      <div class="form">
        {error && <Alert>{error}</Alert>}
        <p>Clusters that use this version keep running; no new cluster can use it.</p>
        <div class="form-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="button" class="button button-danger" disabled={busy} onClick={remove}>
            Delete version
          </button>
        </div>
      </div>
    </Modal>
  );
}
