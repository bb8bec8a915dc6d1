import type * as pulumi from "@pulumi/pulumi";

/** API credentials for the gateway; key and secret are Pulumi secrets. */
export interface OpnsenseConnection {
  url: string;
  apiKey: pulumi.Output<string>;
  apiSecret: pulumi.Output<string>;
  /** PEM of the gateway's CA when it uses a self-signed certificate. */
  caCertificate?: string;
}
