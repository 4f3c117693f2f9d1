/**
 * jobworker's PKI primitives (ECDSA P-256 CA, server and client certificates,
 * CRLs), used by `jobworker-server pki`, and the development PKI written by
 * writeDevPki: never use the development certificates in production.
 */
export { DEV_CLIENTS, writeDevPki, writePair } from "./dev-pki.js";
export {
  type Authority,
  createAuthority,
  createCrl,
  type Issued,
  type IssueOptions,
  issue,
  loadAuthority,
  PEER_UNIT,
  type Revocation,
} from "./pki.js";
