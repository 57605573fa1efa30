namespace Foresight;

/// <summary>
/// SplitMix64: a tiny, fast generator whose whole state is one ulong, so a data stream can be
/// reproduced bit for bit on any runtime and its position saved in a checkpoint.
/// </summary>
public sealed class SeededRandom
{
    private ulong _state;

    public SeededRandom(ulong state) => _state = state;

    /// <summary>An independent stream for one purpose ("train", "test", "order") of one seed.</summary>
    public static SeededRandom For(long seed, string purpose)
    {
        ulong h = 14695981039346656037UL; // FNV-1a over the purpose, mixed with the seed
        foreach (char c in purpose) h = (h ^ c) * 1099511628211UL;
        return new SeededRandom(Mix((ulong)seed ^ h));
    }

    public ulong State => _state;

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform integer in [0, bound), without modulo bias.</summary>
    public int Next(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound));
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)bound;
        ulong x;
        do x = NextUInt64(); while (x >= limit);
        return (int)(x % (ulong)bound);
    }

    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
