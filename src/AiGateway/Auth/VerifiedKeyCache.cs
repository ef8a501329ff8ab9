using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace AiGateway.Auth;

/// <summary>
/// Remembers which presented keys a config snapshot has already verified, so a busy key is hashed once per
/// snapshot instead of once per request (SHA-256 through OpenSSL plus the hex lookup cost ≈ 1.5 µs of a request's
/// CPU). Direct-mapped: a slot per (randomized) string hash, the last verified key wins its slot, so the cache
/// is bounded whatever callers send. Only keys that verified are stored, so a flood of wrong keys never displaces
/// anything and is always hashed. A hit compares the whole key in fixed time.
/// The presented keys live here in process memory only, as they do in the request's headers; they are never
/// logged or persisted, and a reload (a new snapshot) starts with an empty cache, so a revoked key stops working
/// at once.
/// </summary>
internal sealed class VerifiedKeyCache
{
    private const int Slots = 1024;

    private readonly Entry?[] _entries = new Entry?[Slots];

    public GatewayCaller? Find(string presented)
    {
        var entry = Volatile.Read(ref _entries[Slot(presented)]);
        return entry is not null && FixedTimeEquals(entry.Presented, presented) ? entry.Caller : null;
    }

    public void Add(string presented, GatewayCaller caller) =>
        Volatile.Write(ref _entries[Slot(presented)], new Entry(presented, caller));

    private static int Slot(string presented) => presented.GetHashCode() & (Slots - 1);

    private static bool FixedTimeEquals(string a, string b) =>
        a.Length == b.Length
        && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(a.AsSpan()), MemoryMarshal.AsBytes(b.AsSpan()));

    private sealed record Entry(string Presented, GatewayCaller Caller);
}
