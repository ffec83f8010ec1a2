// Connection strings, parsed without loading any SDK: the operator reads the Service Bus
// endpoint from one, and importing servicebus-connection.ts for that would load
// @azure/identity (through identity.ts) at start, about 15 MiB of RSS it never uses.

/** Splits "Key=value;Key2=value2" (Service Bus and Storage connection strings alike). */
export function parseConnectionString(connectionString: string): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const segment of connectionString.split(';')) {
    const at = segment.indexOf('=');
    if (at > 0) parts[segment.slice(0, at).trim()] = segment.slice(at + 1).trim();
  }
  return parts;
}
