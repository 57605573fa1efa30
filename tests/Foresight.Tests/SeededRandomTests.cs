namespace Foresight.Tests;

public sealed class SeededRandomTests
{
    [Fact]
    public void Streams_are_reproducible_and_independent()
    {
        ulong[] Draw(long seed, string purpose)
        {
            var r = SeededRandom.For(seed, purpose);
            return Enumerable.Range(0, 8).Select(_ => r.NextUInt64()).ToArray();
        }
        Assert.Equal(Draw(1, "train"), Draw(1, "train"));
        Assert.NotEqual(Draw(1, "train"), Draw(1, "test"));
        Assert.NotEqual(Draw(1, "train"), Draw(2, "train"));
    }

    [Fact]
    public void Next_is_uniform_over_its_range()
    {
        var random = new SeededRandom(42);
        var counts = new int[5];
        for (int i = 0; i < 50_000; i++) counts[random.Next(5)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void Shuffle_is_a_permutation()
    {
        var items = Enumerable.Range(0, 100).ToArray();
        new SeededRandom(7).Shuffle(items);
        Assert.Equal(Enumerable.Range(0, 100), items.Order());
        Assert.NotEqual(Enumerable.Range(0, 100), items);
    }
}
