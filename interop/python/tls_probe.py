"""A bare TLS handshake with Python's ssl module: the alert a refused client is told."""

import os
import socket
import ssl

def tls_refusal(_ctx, args):
    """A bare TLS 1.3 (or `version`) handshake and first read with a client certificate: the alert that ended it."""
    host, port = os.environ["INTEROP_TARGET"].rsplit(":", 1)
    context = ssl.create_default_context(cafile=os.path.join(os.environ["INTEROP_CERTS"], "ca.crt"))
    version = args.get("version", "TLSv1_3")
    context.minimum_version = context.maximum_version = getattr(ssl.TLSVersion, version)
    context.set_alpn_protocols(["h2"])
    if args.get("identity"):
        certs = os.environ["INTEROP_CERTS"]
        context.load_cert_chain(os.path.join(certs, f"{args['identity']}.crt"), os.path.join(certs, f"{args['identity']}.key"))
    try:
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                # TLS 1.3 verifies the client's certificate after the client's handshake is done:
                # the server's verdict arrives with the first read.
                tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
                data = tls.recv(1)
                return {"alert": None, "accepted": len(data) > 0}
    except ssl.SSLError as error:
        return {"alert": error.reason, "accepted": False}
    except (ConnectionResetError, ssl.SSLEOFError, BrokenPipeError) as error:
        return {"alert": None, "accepted": False, "closed": type(error).__name__}
