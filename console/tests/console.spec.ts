// The console end to end: a person's path through it in headless Chromium against a real cksd.
// Screenshots of the main pages land in test-results/screenshots/ for a look by eye.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect, type Page, test } from '@playwright/test';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SHOTS = join(HERE, '../test-results/screenshots');
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function logIn(page: Page) {
  await page.goto('/');
  await page.locator('input[name=username]').fill('admin');
  await page.locator('input[name=password]').fill(process.env.CKS_ADMIN_PASSWORD!);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('user')).toHaveText('admin');
}

/** Calls the API from the page, as the console does (session cookie + sessionkey parameter). */
async function apiFromPage(page: Page, params: Record<string, string>): Promise<any> {
  return page.evaluate(async (p) => {
    const session = JSON.parse(sessionStorage.getItem('cks.session')!);
    const body = new URLSearchParams({ ...p, response: 'json', sessionkey: session.sessionkey });
    const r = await fetch('/client/api', { method: 'POST', body });
    return r.json();
  }, params);
}

test('a wrong password shows the server\'s error, the right one logs in', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await shot(page, '01-login');
  await page.locator('input[name=username]').fill('admin');
  await page.locator('input[name=password]').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText(
    'Failed to authenticate user admin in domain',
  );
  await expect(page.getByRole('alert')).toContainText('please provide valid credentials');
  await shot(page, '02-login-error');

  await page.locator('input[name=password]').fill(process.env.CKS_ADMIN_PASSWORD!);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('user')).toHaveText('admin');
  await expect(page.getByRole('heading', { name: 'Kubernetes clusters' })).toBeVisible();

  // A reload keeps the session; logging out ends it on the server too.
  await page.reload();
  await expect(page.getByTestId('user')).toHaveText('admin');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});

test('the form checks its fields, then shows the server\'s error', async ({ page }) => {
  await logIn(page);
  await page.getByRole('link', { name: '+ Add Kubernetes Cluster' }).click();
  const form = page.getByTestId('create-form');
  // Nothing filled in: the console says what is missing without calling the server.
  await form.locator('input[name=size]').fill('0');
  await form.getByRole('button', { name: 'Create cluster' }).click();
  await expect(form).toContainText('Enter a name.');
  await expect(form).toContainText('At least 1 worker node.');
  await shot(page, '03-form-validation');

  // Valid to the console, refused by the server (above the global maximum cluster size).
  await form.locator('input[name=name]').fill('too-big');
  await form.locator('input[name=size]').fill('11');
  await form.getByRole('button', { name: 'Create cluster' }).click();
  await expect(form.getByRole('alert')).toHaveText(
    'Maximum cluster size can not exceed 10. Please contact your administrator',
  );
  await shot(page, '04-form-server-error');
});

test('create with advanced settings, watch it run, use its tabs, download the kubeconfig, scale, upgrade, stop, start, delete', async ({
  page,
}) => {
  await logIn(page);
  // A CNI configuration with one parameter, registered through the API as cmk would.
  const cniConfig = Buffer.from('#cloud-config\nruncmd:\n  - echo pod-cidr={{ ds.meta_data.POD_CIDR }}\n').toString('base64');
  const cni = await apiFromPage(page, {
    command: 'registerCniConfiguration',
    name: 'e2e-cni',
    cniconfig: cniConfig,
    params: 'POD_CIDR',
  });
  expect(cni.registercniconfigurationresponse.cniconfig.name).toBe('e2e-cni');
  // Right after cksd's first start the seeded binaries ISOs are still being "downloaded".
  await expect
    .poll(async () => {
      const r = await apiFromPage(page, { command: 'listKubernetesSupportedVersions' });
      return r.listkubernetessupportedversionsresponse.kubernetessupportedversion.map((v: any) => v.isostate);
    }, { timeout: 30_000 })
    .toEqual(['Ready', 'Ready']);

  await page.getByRole('link', { name: '+ Add Kubernetes Cluster' }).click();
  const form = page.getByTestId('create-form');
  await form.locator('input[name=name]').fill('web');
  await form.locator('input[name=description]').fill('Made in the console');
  const versions = form.locator('select[name=kubernetesversionid]');
  await versions.selectOption((await versions.locator('option', { hasText: 'v1.32.4' }).getAttribute('value'))!);
  await form.locator('select[name=serviceofferingid]').selectOption({ label: 'CKS Node (2 vCPU, 2 GiB)' });
  await form.locator('input[name=size]').fill('1');
  await form.getByText('Show advanced settings').click();
  const advanced = page.getByTestId('advanced');
  await advanced.locator('select[name="nodeofferings.etcd"]').selectOption({ label: 'CKS Large (4 vCPU, 8 GiB)' });
  await advanced.locator('select[name="nodeofferings.worker"]').selectOption({ label: 'CKS Node (2 vCPU, 2 GiB)' });
  await advanced.locator('select[name="nodetemplates.worker"]').selectOption({ label: 'CKS Ubuntu 24.04' });
  await advanced.locator('input[name=etcdnodes]').fill('1');
  await advanced.locator('select[name=cniconfigurationid]').selectOption({ label: 'e2e-cni' });
  // The CNI parameter is required once the configuration is chosen.
  await form.getByRole('button', { name: 'Create cluster' }).click();
  await expect(form).toContainText('Enter a value for POD_CIDR.');
  await advanced.locator('input[name="cni.POD_CIDR"]').fill('10.244.0.0/16');
  await shot(page, '05-create-advanced');
  await form.getByRole('button', { name: 'Create cluster' }).click();

  // The cluster's page: it starts, showing the step it is on, then runs.
  await expect(page.getByRole('heading', { name: /^web/ })).toBeVisible();
  await expect(page.getByTestId('step')).toBeVisible({ timeout: 15_000 });
  const seenStep = await page.getByTestId('step').textContent();
  expect(seenStep).toMatch(/^[a-z-]+(:.*)?$/);
  await shot(page, '06-cluster-starting');
  await page.getByRole('link', { name: '← Kubernetes clusters' }).click();
  const row = page.locator('tr[data-cluster="web"]');
  await expect(row).toBeVisible();
  await shot(page, '07-list-starting');
  await expect(row.locator('.badge')).toHaveAttribute('data-state', 'Running', { timeout: 60_000 });
  await expect(row).not.toContainText('·');
  await shot(page, '08-list-running');

  // Details.
  await row.getByRole('link', { name: 'web' }).click();
  const details = page.getByTestId('details');
  await expect(details).toContainText('Etcd node offering');
  await expect(details).toContainText('CKS Large');
  await expect(details).toContainText('e2e-cni');
  await expect(details).toContainText('v1.32.4');
  await shot(page, '09-details');

  // Instances: a control node, an etcd node and a worker, with addresses and SSH ports.
  await page.getByRole('tab', { name: 'Instances' }).click();
  const instances = page.getByTestId('instances');
  await expect(instances.locator('tbody tr')).toHaveCount(3);
  await expect(instances.locator('tr[data-role=etcd]')).toHaveCount(1);
  await expect(instances.locator('tr[data-role=control]')).toContainText('2222');
  await expect(instances.locator('tr[data-role=worker]')).toContainText('1.32.4');
  await expect(instances.locator('tr[data-role=worker]')).toContainText(/10\.\d+\.\d+\.\d+/);
  await shot(page, '10-instances');

  // Access: the kubeconfig download and the kubectl instructions.
  await page.getByRole('tab', { name: 'Access' }).click();
  await expect(page.getByText('kubectl get nodes -o wide')).toBeVisible();
  await expect(page.getByText('export KUBECONFIG=~/Downloads/web.kubeconfig')).toBeVisible();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('download-kubeconfig').click(),
  ]);
  expect(download.suggestedFilename()).toBe('web.kubeconfig');
  const kubeconfig = readFileSync((await download.path())!, 'utf8');
  expect(kubeconfig.startsWith('apiVersion: v1\n')).toBe(true);
  expect(kubeconfig).toContain('- name: web\n');
  expect(kubeconfig).toContain('current-context: web');
  await shot(page, '11-access');

  // Scale to two workers.
  await page.getByRole('button', { name: 'Scale' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.locator('input[name=size]').fill('2');
  await shot(page, '12-scale-dialog');
  await dialog.getByRole('button', { name: 'Scale' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator('h1 .badge')).toHaveAttribute('data-state', 'Scaling', { timeout: 5_000 });
  await expect(page.locator('h1 .badge')).toHaveAttribute('data-state', 'Running', { timeout: 60_000 });
  await page.getByRole('tab', { name: 'Instances' }).click();
  await expect(instances.locator('tr[data-role=worker]')).toHaveCount(2);
  await expect(page.locator('.toast-ok')).toContainText('Scaling web: done');

  // Upgrade to 1.33.1: every Kubernetes node reports the new version.
  const badge = page.locator('h1 .badge');
  await page.getByRole('button', { name: 'Upgrade' }).click();
  await expect(page.getByRole('dialog').locator('select[name=kubernetesversionid]')).toHaveValue(/.+/);
  await page.getByRole('dialog').getByRole('button', { name: 'Upgrade' }).click();
  await expect(badge).toHaveAttribute('data-state', 'Upgrading', { timeout: 5_000 });
  await expect(badge).toHaveAttribute('data-state', 'Running', { timeout: 60_000 });
  await expect(instances.locator('tr[data-role=worker]').first()).toContainText('1.33.1');
  await expect(instances.locator('tr[data-role=control]')).toContainText('1.33.1');

  // Stop and start.
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(badge).toHaveAttribute('data-state', 'Stopped', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(badge).toHaveAttribute('data-state', 'Running', { timeout: 60_000 });

  // Delete.
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete cluster' }).click();
  await expect(page.getByText('This cluster no longer exists')).toBeVisible({ timeout: 60_000 });
  await page.getByRole('link', { name: 'Back to the clusters' }).click();
  await expect(page.locator('tr[data-cluster="web"]')).toHaveCount(0);
  await expect(page.getByText('No clusters yet')).toBeVisible();
});

test('root admins manage the Kubernetes version catalog', async ({ page }) => {
  await logIn(page);
  await page.getByRole('link', { name: 'Kubernetes versions' }).click();
  const table = page.getByTestId('versions-table');
  await expect(table.locator('tr[data-version="1.32.4"]')).toBeVisible();
  await expect(table.locator('tr[data-version="1.33.1"]')).toBeVisible();
  await shot(page, '13-versions');

  const v133 = table.locator('tr[data-version="1.33.1"]');
  await v133.getByRole('button', { name: 'Disable' }).click();
  await expect(v133.locator('.badge').first()).toHaveAttribute('data-state', 'Disabled');
  await v133.getByRole('button', { name: 'Enable' }).click();
  await expect(v133.locator('.badge').first()).toHaveAttribute('data-state', 'Enabled');

  // The add form checks the version's format before the server sees it.
  await page.getByRole('button', { name: '+ Add Kubernetes version' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.locator('input[name=semanticversion]').fill('1.x');
  await dialog.getByRole('button', { name: 'Add version' }).click();
  await expect(dialog).toContainText('MAJOR.MINOR.PATCH');
  await shot(page, '14-add-version');
});
