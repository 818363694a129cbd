export { applyConfiguredAppKeys, listTenants } from './tenants.service.js'
