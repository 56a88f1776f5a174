// Kubernetes clusters: the list, "Add Kubernetes Cluster", and a cluster's page with its tabs and actions.

import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';

import { api, ApiError, list, waitForJob, type Params } from './api';
import {
  Alert,
  CopyBlock,
  Field,
  formatDate,
  formatMemory,
  Modal,
  navigate,
  StateBadge,
  toast,
  TRANSIENT,
  usePolling,
} from './ui';

interface Nic {
  ipaddress?: string;
}
interface ClusterVm {
  id: string;
  name: string;
  state: string;
  nic?: Nic[];
  kubernetesnodeversion?: string;
  isetcdnode?: boolean;
  serviceofferingname?: string;
}
interface Cluster {
  id: string;
  name: string;
  description?: string;
  state: string;
  operation?: string;
  step?: string;
  lasterror?: string;
  zoneid: string;
  zonename?: string;
  kubernetesversionid: string;
  kubernetesversionname?: string;
  serviceofferingid?: string;
  serviceofferingname?: string;
  workerofferingname?: string;
  controlofferingname?: string;
  etcdofferingname?: string;
  templatename?: string;
  associatednetworkname?: string;
  keypair?: string;
  controlnodes?: number;
  size?: number;
  etcdnodes?: number;
  cpunumber?: string;
  memory?: string;
  endpoint?: string;
  ipaddress?: string;
  ipaddressid?: string;
  account?: string;
  domain?: string;
  created?: string;
  csienabled?: boolean;
  autoscalingenabled?: boolean;
  minsize?: number;
  maxsize?: number;
  cniconfigname?: string;
  virtualmachines?: ClusterVm[];
}
interface Version {
  id: string;
  name: string;
  semanticversion: string;
  state: string;
  isostate?: string;
  supportsha?: boolean;
  supportsautoscaling?: boolean;
  mincpunumber?: number;
  minmemory?: number;
}
interface Offering {
  id: string;
  name: string;
  cpunumber: number;
  memory: number;
}
interface Named {
  id: string;
  name: string;
}
interface CniConfig extends Named {
  params?: string;
}

function offeringLabel(o: Offering) {
  return `${o.name} (${o.cpunumber} vCPU, ${formatMemory(o.memory)})`;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** Starts an async command, tells the user, and reports its end. */
async function runJob(command: string, params: Params, what: string): Promise<void> {
  const started = await api(command, params);
  toast('info', `${what}…`);
  waitForJob(started.jobid).then(
    () => toast('ok', `${what}: done`),
    (e: ApiError) => toast('error', `${what} failed: ${e.text}`),
  );
}

function Progress({ cluster }: { cluster: Cluster }) {
  if (!TRANSIENT.has(cluster.state)) return null;
  return (
    <span class="progress" data-testid="progress">
      {cluster.operation ?? cluster.state.toLowerCase()}
      {cluster.step && (
        <>
          {' · '}
          <span class="step" data-testid="step">
            {cluster.step}
          </span>
        </>
      )}
    </span>
  );
}

function nodeRole(vm: ClusterVm): string {
  if (vm.isetcdnode) return 'etcd';
  return /-control-/.test(vm.name) ? 'control' : 'worker';
}

// === The cluster list ===

export function ClusterList() {
  const [clusters, setClusters] = useState<Cluster[] | null>(null);
  const [error, setError] = useState('');
  usePolling(
    async () => {
      try {
        setClusters(await list<Cluster>('listKubernetesClusters', 'kubernetescluster'));
        setError('');
      } catch (e) {
        setError((e as ApiError).text ?? String(e));
      }
    },
    () => (clusters?.some((c) => TRANSIENT.has(c.state)) ? 1000 : 5000),
    [],
  );
  return (
    <section>
      <div class="page-header">
        <div>
          <h1>Kubernetes clusters</h1>
          <p class="muted">Clusters of your account, refreshed live while an operation runs.</p>
        </div>
        <a class="button button-primary" href="#/clusters/new">
          + Add Kubernetes Cluster
        </a>
      </div>
      {error && <Alert>{error}</Alert>}
      {clusters === null ? (
        <p class="muted">Loading…</p>
      ) : clusters.length === 0 ? (
        <div class="empty">
          <h2>No clusters yet</h2>
          <p class="muted">A cluster with one control node and one worker is Running in about ten seconds.</p>
          <a class="button button-primary" href="#/clusters/new">
            Add Kubernetes Cluster
          </a>
        </div>
      ) : (
        <table class="table" data-testid="cluster-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>State</th>
              <th>Version</th>
              <th>Control nodes</th>
              <th>Workers</th>
              <th>Zone</th>
              <th>Account</th>
            </tr>
          </thead>
          <tbody>
            {clusters.map((c) => (
              <tr key={c.id} data-cluster={c.name}>
                <td>
                  <a href={`#/clusters/${c.id}/details`} class="strong">
                    {c.name}
                  </a>
                  {c.description && c.description !== c.name && <div class="muted small">{c.description}</div>}
                </td>
                <td>
                  <StateBadge state={c.state} /> <Progress cluster={c} />
                </td>
                <td>{c.kubernetesversionname}</td>
                <td>{c.controlnodes}</td>
                <td>{c.size}</td>
                <td>{c.zonename}</td>
                <td>{c.account}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

// === Add Kubernetes Cluster ===

interface Catalog {
  zones: Named[];
  versions: Version[];
  offerings: Offering[];
  templates: Named[];
  networks: Named[];
  keypairs: { name: string }[];
  cnis: CniConfig[];
}

type NodeType = 'control' | 'worker' | 'etcd';
const NODE_TYPES: NodeType[] = ['control', 'worker', 'etcd'];

interface CreateForm {
  name: string;
  description: string;
  zoneid: string;
  kubernetesversionid: string;
  serviceofferingid: string;
  controlnodes: string;
  size: string;
  keypair: string;
  networkid: string;
  etcdnodes: string;
  noderootdisksize: string;
  nodeofferings: Record<NodeType, string>;
  nodetemplates: Record<NodeType, string>;
  cniconfigurationid: string;
  cnidetails: Record<string, string>;
  enablecsi: boolean;
}

function isCount(value: string, min: number): boolean {
  return /^\d+$/.test(value.trim()) && Number(value) >= min;
}

function validate(f: CreateForm, catalog: Catalog): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!f.name.trim()) errors.name = 'Enter a name.';
  else if (!/^[a-zA-Z0-9][a-zA-Z0-9-]*$/.test(f.name.trim()))
    errors.name = 'Letters, digits and hyphens, starting with a letter or digit.';
  if (!f.zoneid) errors.zoneid = 'Choose a zone.';
  if (!f.kubernetesversionid) errors.kubernetesversionid = 'Choose a Kubernetes version.';
  if (!f.serviceofferingid) errors.serviceofferingid = 'Choose a service offering.';
  if (!isCount(f.controlnodes, 1)) errors.controlnodes = 'At least 1 control node.';
  if (!isCount(f.size, 1)) errors.size = 'At least 1 worker node.';
  if (!isCount(f.etcdnodes || '0', 0)) errors.etcdnodes = 'A number, 0 or more.';
  if (f.noderootdisksize && !isCount(f.noderootdisksize, 8)) errors.noderootdisksize = 'At least 8 GB.';
  const version = catalog.versions.find((v) => v.id === f.kubernetesversionid);
  if (version && Number(f.controlnodes) > 1 && !version.supportsha)
    errors.controlnodes = `Version ${version.semanticversion} does not support more than one control node.`;
  if (version) {
    const check = (field: string, offeringId: string) => {
      const o = catalog.offerings.find((x) => x.id === offeringId);
      if (o && (o.cpunumber < (version.mincpunumber ?? 0) || o.memory < (version.minmemory ?? 0)))
        errors[field] =
          `Kubernetes ${version.semanticversion} needs at least ${version.mincpunumber} vCPU and ` +
          `${formatMemory(version.minmemory)}.`;
    };
    check('serviceofferingid', f.serviceofferingid);
    for (const t of NODE_TYPES) if (f.nodeofferings[t]) check(`nodeofferings.${t}`, f.nodeofferings[t]);
  }
  const cni = catalog.cnis.find((c) => c.id === f.cniconfigurationid);
  for (const param of cniParams(cni)) {
    if (!f.cnidetails[param]?.trim()) errors[`cni.${param}`] = `Enter a value for ${param}.`;
  }
  return errors;
}

function cniParams(cni: CniConfig | undefined): string[] {
  return (cni?.params ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

function toParams(f: CreateForm, catalog: Catalog, advanced: boolean): Params {
  const p: Params = {
    name: f.name.trim(),
    description: f.description.trim(),
    zoneid: f.zoneid,
    kubernetesversionid: f.kubernetesversionid,
    serviceofferingid: f.serviceofferingid,
    controlnodes: f.controlnodes,
    size: f.size,
    keypair: f.keypair,
    networkid: f.networkid,
  };
  if (!advanced) return p;
  let i = 0;
  for (const t of NODE_TYPES) {
    if (!f.nodeofferings[t] || (t === 'etcd' && Number(f.etcdnodes || 0) === 0)) continue;
    p[`nodeofferings[${i}].node`] = t;
    p[`nodeofferings[${i}].offering`] = f.nodeofferings[t];
    i++;
  }
  i = 0;
  for (const t of NODE_TYPES) {
    if (!f.nodetemplates[t] || (t === 'etcd' && Number(f.etcdnodes || 0) === 0)) continue;
    p[`nodetemplates[${i}].node`] = t;
    p[`nodetemplates[${i}].template`] = f.nodetemplates[t];
    i++;
  }
  if (Number(f.etcdnodes || 0) > 0) p.etcdnodes = f.etcdnodes;
  p.noderootdisksize = f.noderootdisksize;
  if (f.cniconfigurationid) {
    p.cniconfigurationid = f.cniconfigurationid;
    const cni = catalog.cnis.find((c) => c.id === f.cniconfigurationid);
    for (const param of cniParams(cni)) p[`cniconfigdetails[0].${param}`] = f.cnidetails[param];
  }
  if (f.enablecsi) p.enablecsi = true;
  return p;
}

export function CreateCluster() {
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [loadError, setLoadError] = useState('');
  const [advanced, setAdvanced] = useState(false);
  const [submitted, setSubmitted] = useState(false);
  const [serverError, setServerError] = useState('');
  const [busy, setBusy] = useState(false);
  const [form, setForm] = useState<CreateForm>({
    name: '',
    description: '',
    zoneid: '',
    kubernetesversionid: '',
    serviceofferingid: '',
    controlnodes: '1',
    size: '1',
    keypair: '',
    networkid: '',
    etcdnodes: '0',
    noderootdisksize: '',
    nodeofferings: { control: '', worker: '', etcd: '' },
    nodetemplates: { control: '', worker: '', etcd: '' },
    cniconfigurationid: '',
    cnidetails: {},
    enablecsi: false,
  });

  useEffect(() => {
    (async () => {
      try {
        const [zones, versions, offerings, templates, networks, keypairs, cnis] = await Promise.all([
          list<Named>('listZones', 'zone', { available: true }),
          list<Version>('listKubernetesSupportedVersions', 'kubernetessupportedversion'),
          list<Offering>('listServiceOfferings', 'serviceoffering'),
          list<Named>('listTemplates', 'template', { templatefilter: 'executable' }),
          list<Named>('listNetworks', 'network'),
          list<{ name: string }>('listSSHKeyPairs', 'sshkeypair'),
          list<CniConfig>('listCniConfiguration', 'cniconfig'),
        ]);
        const enabled = versions
          .filter((v) => v.state === 'Enabled')
          .sort((a, b) => compareVersions(b.semanticversion, a.semanticversion));
        setCatalog({ zones, versions: enabled, offerings, templates, networks, keypairs, cnis });
        const fitting = offerings.find(
          (o) => enabled[0] && o.cpunumber >= (enabled[0].mincpunumber ?? 0) && o.memory >= (enabled[0].minmemory ?? 0),
        );
        setForm((f) => ({
          ...f,
          zoneid: zones[0]?.id ?? '',
          kubernetesversionid: enabled[0]?.id ?? '',
          serviceofferingid: fitting?.id ?? '',
        }));
      } catch (e) {
        setLoadError((e as ApiError).text ?? String(e));
      }
    })();
  }, []);

  const errors = useMemo(() => (catalog ? validate(form, catalog) : {}), [form, catalog]);
  // The form is long: bring its error message into view.
  useEffect(() => {
    if (serverError || submitted) document.querySelector('.form .alert')?.scrollIntoView({ block: 'nearest' });
  }, [serverError, submitted]);
  const shown = (key: string) => (submitted ? errors[key] : undefined);
  const set = (patch: Partial<CreateForm>) => setForm((f) => ({ ...f, ...patch }));
  const input = (key: keyof CreateForm) => (e: Event) =>
    set({ [key]: (e.currentTarget as HTMLInputElement).value } as Partial<CreateForm>);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!catalog) return;
    setSubmitted(true);
    setServerError('');
    if (Object.keys(errors).length > 0) {
      // Show the advanced section when that is where the problem is.
      if (Object.keys(errors).some((k) => k.includes('.') || k === 'etcdnodes' || k === 'noderootdisksize'))
        setAdvanced(true);
      return;
    }
    setBusy(true);
    try {
      const r = await api('createKubernetesCluster', toParams(form, catalog, advanced));
      const name = form.name.trim();
      toast('info', `Creating cluster ${name}…`);
      waitForJob(r.jobid).then(
        () => toast('ok', `Cluster ${name} is running`),
        (err: ApiError) => toast('error', `Creating ${name} failed: ${err.text}`),
      );
      navigate(`/clusters/${r.id}/details`);
    } catch (err) {
      setServerError((err as ApiError).text ?? String(err));
    } finally {
      setBusy(false);
    }
  };

  if (loadError) return <Alert>{loadError}</Alert>;
  if (!catalog) return <p class="muted">Loading…</p>;
  const version = catalog.versions.find((v) => v.id === form.kubernetesversionid);
  const cni = catalog.cnis.find((c) => c.id === form.cniconfigurationid);
  const offeringOptions = catalog.offerings.map((o) => (
    <option key={o.id} value={o.id}>
      {offeringLabel(o)}
    </option>
  ));
  return (
    <section>
      <div class="page-header">
        <div>
          <a href="#/clusters" class="back">
            ← Kubernetes clusters
          </a>
          <h1>Add Kubernetes Cluster</h1>
        </div>
      </div>
      <form class="card form" onSubmit={submit} noValidate data-testid="create-form">
        {serverError && <Alert>{serverError}</Alert>}
        {submitted && Object.keys(errors).length > 0 && <Alert>Correct the fields marked below.</Alert>}
        <div class="grid-2">
          <Field label="Name" error={shown('name')}>
            <input name="name" value={form.name} onInput={input('name')} placeholder="demo" autofocus />
          </Field>
          <Field label="Description">
            <input name="description" value={form.description} onInput={input('description')} />
          </Field>
          <Field label="Zone" error={shown('zoneid')}>
            <select name="zoneid" value={form.zoneid} onChange={input('zoneid')}>
              {catalog.zones.map((z) => (
                <option key={z.id} value={z.id}>
                  {z.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Kubernetes version" error={shown('kubernetesversionid')}>
            <select name="kubernetesversionid" value={form.kubernetesversionid} onChange={input('kubernetesversionid')}>
              {catalog.versions.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.name}
                  {v.isostate && v.isostate !== 'Ready' ? ` (ISO ${v.isostate})` : ''}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Service offering"
            error={shown('serviceofferingid')}
            hint={version ? `At least ${version.mincpunumber} vCPU and ${formatMemory(version.minmemory)}` : undefined}
          >
            <select name="serviceofferingid" value={form.serviceofferingid} onChange={input('serviceofferingid')}>
              <option value="">Choose…</option>
              {offeringOptions}
            </select>
          </Field>
          <Field label="SSH key pair" hint="Optional">
            <select name="keypair" value={form.keypair} onChange={input('keypair')}>
              <option value="">None</option>
              {catalog.keypairs.map((k) => (
                <option key={k.name} value={k.name}>
                  {k.name}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Control nodes"
            error={shown('controlnodes')}
            hint={version?.supportsha ? 'More than one makes the control plane highly available' : undefined}
          >
            <input name="controlnodes" type="number" min="1" value={form.controlnodes} onInput={input('controlnodes')} />
          </Field>
          <Field label="Worker nodes" error={shown('size')}>
            <input name="size" type="number" min="1" value={form.size} onInput={input('size')} />
          </Field>
          <Field label="Network" hint="Optional: by default the cluster gets its own isolated network">
            <select name="networkid" value={form.networkid} onChange={input('networkid')}>
              <option value="">Create a network for the cluster</option>
              {catalog.networks.map((n) => (
                <option key={n.id} value={n.id}>
                  {n.name}
                </option>
              ))}
            </select>
          </Field>
        </div>

        <label class="switch">
          <input
            type="checkbox"
            name="advanced"
            checked={advanced}
            onChange={(e) => setAdvanced(e.currentTarget.checked)}
          />
          <span>Show advanced settings</span>
        </label>

        {advanced && (
          <div class="advanced" data-testid="advanced">
            <h3>Offerings and templates per node type</h3>
            <table class="table table-compact">
              <thead>
                <tr>
                  <th>Node type</th>
                  <th>Service offering</th>
                  <th>Template</th>
                </tr>
              </thead>
              <tbody>
                {NODE_TYPES.map((t) => (
                  <tr key={t}>
                    <td class="capitalize">{t}</td>
                    <td>
                      <select
                        name={`nodeofferings.${t}`}
                        aria-label={`${t} offering`}
                        value={form.nodeofferings[t]}
                        onChange={(e) => set({ nodeofferings: { ...form.nodeofferings, [t]: e.currentTarget.value } })}
                      >
                        <option value="">Same as the service offering</option>
                        {offeringOptions}
                      </select>
                      {shown(`nodeofferings.${t}`) && <div class="field-error">{shown(`nodeofferings.${t}`)}</div>}
                    </td>
                    <td>
                      <select
                        name={`nodetemplates.${t}`}
                        aria-label={`${t} template`}
                        value={form.nodetemplates[t]}
                        onChange={(e) => set({ nodetemplates: { ...form.nodetemplates, [t]: e.currentTarget.value } })}
                      >
                        <option value="">The zone's CKS template</option>
                        {catalog.templates.map((tp) => (
                          <option key={tp.id} value={tp.id}>
                            {tp.name}
                          </option>
                        ))}
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div class="grid-2">
              <Field label="Etcd nodes" error={shown('etcdnodes')} hint="0 runs etcd on the control nodes">
                <input name="etcdnodes" type="number" min="0" value={form.etcdnodes} onInput={input('etcdnodes')} />
              </Field>
              <Field label="Node root disk size (GB)" error={shown('noderootdisksize')} hint="Optional">
                <input
                  name="noderootdisksize"
                  type="number"
                  min="8"
                  value={form.noderootdisksize}
                  onInput={input('noderootdisksize')}
                />
              </Field>
              <Field label="CNI configuration" hint="Optional: the default CNI otherwise">
                <select
                  name="cniconfigurationid"
                  value={form.cniconfigurationid}
                  onChange={(e) => set({ cniconfigurationid: e.currentTarget.value, cnidetails: {} })}
                >
                  <option value="">Default</option>
                  {catalog.cnis.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name}
                    </option>
                  ))}
                </select>
              </Field>
              {cniParams(cni).map((param) => (
                <Field key={param} label={`CNI parameter ${param}`} error={shown(`cni.${param}`)}>
                  <input
                    name={`cni.${param}`}
                    value={form.cnidetails[param] ?? ''}
                    onInput={(e) => set({ cnidetails: { ...form.cnidetails, [param]: e.currentTarget.value } })}
                  />
                </Field>
              ))}
            </div>
            <label class="switch">
              <input
                type="checkbox"
                name="enablecsi"
                checked={form.enablecsi}
                onChange={(e) => set({ enablecsi: e.currentTarget.checked })}
              />
              <span>Enable the CloudStack CSI driver</span>
            </label>
          </div>
        )}

        <div class="form-actions">
          <a class="button" href="#/clusters">
            Cancel
          </a>
          <button class="button button-primary" type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create cluster'}
          </button>
        </div>
      </form>
    </section>
  );
}

// === A cluster's page ===

type Dialog = 'scale' | 'upgrade' | 'delete' | null;

export function ClusterDetail({ id, tab }: { id: string; tab: string }) {
  const [cluster, setCluster] = useState<Cluster | null>(null);
  const [sshPorts, setSshPorts] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [gone, setGone] = useState(false);
  const [dialog, setDialog] = useState<Dialog>(null);
  // Bumped when an operation starts, so the page shows its state at once.
  const [tick, setTick] = useState(0);
  const refresh = () => setTick((t) => t + 1);
  usePolling(
    async () => {
      try {
        const found = await list<Cluster>('listKubernetesClusters', 'kubernetescluster', { id });
        if (found.length === 0) {
          setGone(true);
          return;
        }
        setCluster(found[0]);
        setError('');
        if (found[0].ipaddressid) {
          const rules = await list<any>('listPortForwardingRules', 'portforwardingrule', {
            ipaddressid: found[0].ipaddressid,
          });
          const ports: Record<string, string> = {};
          for (const r of rules) if (r.privateport === '22') ports[r.virtualmachineid] = r.publicport;
          setSshPorts(ports);
        }
      } catch (e) {
        const err = e as ApiError;
        // A deleted cluster's id is unknown to the server.
        if (err.code === 431) setGone(true);
        else setError(err.text ?? String(e));
      }
    },
    () => (cluster && TRANSIENT.has(cluster.state) ? 1000 : 4000),
    [id, tick],
  );
  if (gone)
    return (
      <div class="empty">
        <h2>This cluster no longer exists</h2>
        <a class="button" href="#/clusters">
          Back to the clusters
        </a>
      </div>
    );
  if (!cluster) return error ? <Alert>{error}</Alert> : <p class="muted">Loading…</p>;
  const s = cluster.state;
  const act = async (command: string, what: string) => {
    try {
      await runJob(command, { id: cluster.id }, what);
      refresh();
    } catch (e) {
      toast('error', (e as ApiError).text ?? String(e));
    }
  };
  return (
    <section>
      <div class="page-header">
        <div>
          <a href="#/clusters" class="back">
            ← Kubernetes clusters
          </a>
          <h1>
            {cluster.name} <StateBadge state={s} />
          </h1>
          <div class="subtitle">
            <Progress cluster={cluster} />
          </div>
        </div>
        <div class="actions">
          <button
            class="button"
            disabled={!['Stopped', 'Alert', 'Created'].includes(s)}
            onClick={() => act('startKubernetesCluster', `Starting ${cluster.name}`)}
          >
            Start
          </button>
          <button
            class="button"
            disabled={!['Running', 'Alert'].includes(s)}
            onClick={() => act('stopKubernetesCluster', `Stopping ${cluster.name}`)}
          >
            Stop
          </button>
          <button class="button" disabled={!['Running', 'Stopped', 'Alert'].includes(s)} onClick={() => setDialog('scale')}>
            Scale
          </button>
          <button class="button" disabled={s !== 'Running'} onClick={() => setDialog('upgrade')}>
            Upgrade
          </button>
          <button class="button button-danger" disabled={s === 'Destroying'} onClick={() => setDialog('delete')}>
            Delete
          </button>
        </div>
      </div>
      {error && <Alert>{error}</Alert>}
      {cluster.lasterror && (
        <Alert>
          <strong>Last error:</strong> {cluster.lasterror}
        </Alert>
      )}
      <nav class="tabs" role="tablist">
        {[
          ['details', 'Details'],
          ['access', 'Access'],
          ['instances', 'Instances'],
        ].map(([key, label]) => (
          <a
            key={key}
            role="tab"
            aria-selected={tab === key}
            class={`tab${tab === key ? ' active' : ''}`}
            href={`#/clusters/${cluster.id}/${key}`}
          >
            {label}
          </a>
        ))}
      </nav>
      <div class="card tab-panel">
        {tab === 'access' ? (
          <AccessTab cluster={cluster} sshPorts={sshPorts} />
        ) : tab === 'instances' ? (
          <InstancesTab cluster={cluster} sshPorts={sshPorts} />
        ) : (
          <DetailsTab cluster={cluster} />
        )}
      </div>
      {dialog === 'scale' && <ScaleDialog cluster={cluster} onClose={() => setDialog(null)} onStarted={refresh} />}
      {dialog === 'upgrade' && <UpgradeDialog cluster={cluster} onClose={() => setDialog(null)} onStarted={refresh} />}
      {dialog === 'delete' && <DeleteDialog cluster={cluster} onClose={() => setDialog(null)} onStarted={refresh} />}
    </section>
  );
}

function DetailsTab({ cluster: c }: { cluster: Cluster }) {
  const rows: [string, string | number | undefined][] = [
    ['ID', c.id],
    ['Description', c.description],
    ['State', c.state],
    ['Kubernetes version', c.kubernetesversionname],
    ['Zone', c.zonename],
    ['Control nodes', c.controlnodes],
    ['Worker nodes', c.size],
    ['Etcd nodes', c.etcdnodes],
    ['Service offering', c.serviceofferingname],
    ['Control node offering', c.controlofferingname],
    ['Worker node offering', c.workerofferingname],
    ['Etcd node offering', c.etcdofferingname],
    ['Template', c.templatename],
    ['Network', c.associatednetworkname],
    ['SSH key pair', c.keypair],
    ['CNI configuration', c.cniconfigname],
    ['CSI driver', c.csienabled ? 'Enabled' : 'Disabled'],
    ['Autoscaling', c.autoscalingenabled ? `Enabled (${c.minsize}–${c.maxsize} workers)` : 'Disabled'],
    ['vCPUs', c.cpunumber],
    ['Memory', c.memory ? formatMemory(c.memory) : undefined],
    ['API endpoint', c.endpoint],
    ['Public IP address', c.ipaddress],
    ['Account', c.account],
    ['Domain', c.domain],
    ['Created', formatDate(c.created)],
  ];
  return (
    <dl class="details" data-testid="details">
      {rows
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => (
          <div key={k} class="detail-row">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

function AccessTab({ cluster: c, sshPorts }: { cluster: Cluster; sshPorts: Record<string, string> }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const file = `${c.name}.kubeconfig`;
  const download = async () => {
    setBusy(true);
    setError('');
    try {
      const r = await api('getKubernetesClusterConfig', { id: c.id });
      const blob = new Blob([r.clusterconfig.configdata], { type: 'application/yaml' });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = file;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      setError((e as ApiError).text ?? String(e));
    } finally {
      setBusy(false);
    }
  };
  const firstControl = c.virtualmachines?.find((vm) => nodeRole(vm) === 'control');
  const sshPort = firstControl ? sshPorts[firstControl.id] : undefined;
  return (
    <div class="access">
      <h3>kubeconfig</h3>
      <p>
        The kubeconfig holds the cluster's address and an administrator's client certificate: keep it private.
      </p>
      {error && <Alert>{error}</Alert>}
      <button class="button button-primary" onClick={download} disabled={busy} data-testid="download-kubeconfig">
        {busy ? 'Downloading…' : 'Download kubeconfig'}
      </button>
      <h3>Use it with kubectl</h3>
      <ol class="steps">
        <li>
          Install <code>kubectl</code> {c.kubernetesversionname && <>(a version within one minor of {c.kubernetesversionname})</>}.
        </li>
        <li>
          <CopyBlock label="Point kubectl at the downloaded file:" text={`export KUBECONFIG=~/Downloads/${file}`} />
        </li>
        <li>
          <CopyBlock label="List the nodes:" text="kubectl get nodes -o wide" />
        </li>
        <li>
          <CopyBlock label="Check the API server and the running pods:" text={'kubectl cluster-info\nkubectl get pods --all-namespaces'} />
        </li>
      </ol>
      {c.ipaddress && sshPort && (
        <>
          <h3>SSH to the nodes</h3>
          <p>
            Each node has its own port on the cluster's public address (2222 is the first control node); log in with
            the cluster's SSH key pair as <code>cloud</code>.
          </p>
          <CopyBlock text={`ssh -i ~/.ssh/${c.keypair ?? 'id_rsa'} -p ${sshPort} cloud@${c.ipaddress}`} />
        </>
      )}
    </div>
  );
}

function InstancesTab({ cluster: c, sshPorts }: { cluster: Cluster; sshPorts: Record<string, string> }) {
  const vms = c.virtualmachines ?? [];
  if (vms.length === 0) return <p class="muted">No instances yet.</p>;
  const order = { control: 0, etcd: 1, worker: 2 } as Record<string, number>;
  const sorted = [...vms].sort((a, b) => order[nodeRole(a)] - order[nodeRole(b)] || a.name.localeCompare(b.name));
  return (
    <table class="table" data-testid="instances">
      <thead>
        <tr>
          <th>Name</th>
          <th>Role</th>
          <th>State</th>
          <th>IP address</th>
          <th>SSH port</th>
          <th>Node version</th>
          <th>Offering</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((vm) => (
          <tr key={vm.id} data-role={nodeRole(vm)}>
            <td class="mono">{vm.name}</td>
            <td class="capitalize">{nodeRole(vm)}</td>
            <td>
              <StateBadge state={vm.state} />
            </td>
            <td class="mono">{vm.nic?.[0]?.ipaddress}</td>
            <td class="mono">{sshPorts[vm.id] ?? '–'}</td>
            <td>{vm.kubernetesnodeversion ?? (vm.isetcdnode ? '–' : '')}</td>
            <td>{vm.serviceofferingname}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DialogForm(props: {
  title: string;
  onClose: () => void;
  onSubmit: () => Promise<string | null>;
  submitLabel: string;
  danger?: boolean;
  children: ComponentChildren;
}) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const invalid = await props.onSubmit();
      if (invalid) setError(invalid);
      else props.onClose();
    } catch (err) {
      setError((err as ApiError).text ?? String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <form onSubmit={submit} noValidate class="form">
        {error && <Alert>{error}</Alert>}
        {props.children}
        <div class="form-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class={`button ${props.danger ? 'button-danger' : 'button-primary'}`} disabled={busy}>
            {props.submitLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}

interface DialogProps {
  cluster: Cluster;
  onClose: () => void;
  onStarted: () => void;
}

function ScaleDialog({ cluster: c, onClose, onStarted }: DialogProps) {
  const [size, setSize] = useState(String(c.size ?? 1));
  const [offering, setOffering] = useState('');
  const [autoscaling, setAutoscaling] = useState(!!c.autoscalingenabled);
  const [minsize, setMinsize] = useState(String(c.minsize ?? 1));
  const [maxsize, setMaxsize] = useState(String(c.maxsize ?? Math.max(3, c.size ?? 1)));
  const [offerings, setOfferings] = useState<Offering[]>([]);
  useEffect(() => {
    list<Offering>('listServiceOfferings', 'serviceoffering').then(setOfferings, () => {});
  }, []);
  const submit = async () => {
    const params: Params = { id: c.id, serviceofferingid: offering };
    if (autoscaling) {
      if (!isCount(minsize, 1) || !isCount(maxsize, 1)) return 'Enter the minimum and maximum number of workers.';
      if (Number(maxsize) < Number(minsize)) return 'The maximum must be at least the minimum.';
      Object.assign(params, { autoscalingenabled: true, minsize, maxsize });
    } else {
      if (!isCount(size, 1)) return 'Enter a number of workers, 1 or more.';
      params.size = size;
      if (c.autoscalingenabled) params.autoscalingenabled = false;
    }
    await runJob('scaleKubernetesCluster', params, `Scaling ${c.name}`);
    onStarted();
    return null;
  };
  return (
    <DialogForm title={`Scale ${c.name}`} onClose={onClose} onSubmit={submit} submitLabel="Scale">
      <label class="switch">
        <input type="checkbox" checked={autoscaling} onChange={(e) => setAutoscaling(e.currentTarget.checked)} />
        <span>Autoscaling</span>
      </label>
      {autoscaling ? (
        <div class="grid-2">
          <Field label="Minimum workers">
            <input name="minsize" type="number" min="1" value={minsize} onInput={(e) => setMinsize(e.currentTarget.value)} />
          </Field>
          <Field label="Maximum workers">
            <input name="maxsize" type="number" min="1" value={maxsize} onInput={(e) => setMaxsize(e.currentTarget.value)} />
          </Field>
        </div>
      ) : (
        <Field label="Worker nodes" hint={`Now ${c.size}`}>
          <input name="size" type="number" min="1" value={size} onInput={(e) => setSize(e.currentTarget.value)} autofocus />
        </Field>
      )}
      <Field label="Service offering" hint={`Now ${c.serviceofferingname ?? ''}`}>
        <select name="serviceofferingid" value={offering} onChange={(e) => setOffering(e.currentTarget.value)}>
          <option value="">Keep the current offering</option>
          {offerings.map((o) => (
            <option key={o.id} value={o.id}>
              {offeringLabel(o)}
            </option>
          ))}
        </select>
      </Field>
    </DialogForm>
  );
}

function UpgradeDialog({ cluster: c, onClose, onStarted }: DialogProps) {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [target, setTarget] = useState('');
  useEffect(() => {
    list<Version>('listKubernetesSupportedVersions', 'kubernetessupportedversion').then((all) => {
      const current = (c.kubernetesversionname ?? '').replace(/^v/, '');
      const newer = all
        .filter((v) => v.state === 'Enabled' && compareVersions(v.semanticversion, current) > 0)
        .sort((a, b) => compareVersions(a.semanticversion, b.semanticversion));
      setVersions(newer);
      setTarget(newer[0]?.id ?? '');
    });
  }, []);
  const submit = async () => {
    if (!target) return 'Choose a version to upgrade to.';
    await runJob('upgradeKubernetesCluster', { id: c.id, kubernetesversionid: target }, `Upgrading ${c.name}`);
    onStarted();
    return null;
  };
  return (
    <DialogForm title={`Upgrade ${c.name}`} onClose={onClose} onSubmit={submit} submitLabel="Upgrade">
      <p>
        Now on <strong>{c.kubernetesversionname}</strong>. Nodes are upgraded one at a time, each drained first.
      </p>
      {versions === null ? (
        <p class="muted">Loading…</p>
      ) : versions.length === 0 ? (
        <Alert kind="info">No newer enabled version is available.</Alert>
      ) : (
        <Field label="Kubernetes version">
          <select name="kubernetesversionid" value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            {versions.map((v) => (
              <option key={v.id} value={v.id}>
                {v.name}
              </option>
            ))}
          </select>
        </Field>
      )}
    </DialogForm>
  );
}

function DeleteDialog({ cluster: c, onClose, onStarted }: DialogProps) {
  const submit = async () => {
    await runJob('deleteKubernetesCluster', { id: c.id }, `Deleting ${c.name}`);
    onStarted();
    return null;
  };
  return (
    <DialogForm title={`Delete ${c.name}?`} onClose={onClose} onSubmit={submit} submitLabel="Delete cluster" danger>
      <p>
        This destroys the cluster's {c.virtualmachines?.length ?? 0} instances, its public IP address, its rules and,
        when the cluster made it, its network. It cannot be undone.
      </p>
    </DialogForm>
  );
}
