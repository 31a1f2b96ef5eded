// Placeholder: replaced by the real-server provisioning (TEST_DATABASE_URL / embedded).
export default async function setup(): Promise<void> {}
