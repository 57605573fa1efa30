using TorchSharp;
using static TorchSharp.torch;

namespace Foresight.Tasks;

/// <summary>
/// A batch in task order: prefix (B, P) and target (B, T), both int64. <see cref="NoiseSeed"/> seeds
/// any noise a method draws for it (diffusion masks); the trainer derives it from the run seed and
/// step, so a resumed run draws the same noise as an uninterrupted one.
/// </summary>
public sealed record Batch(Tensor Prefix, Tensor Target, long NoiseSeed = 0)
{
    public long Size => Prefix.shape[0];

    /// <summary>The rows as examples (token ids), for code that checks answers one by one (verifiers, creativity).</summary>
    public IReadOnlyList<Example> Examples()
    {
        long[] prefixes = Prefix.contiguous().data<long>().ToArray(), targets = Target.contiguous().data<long>().ToArray();
        int p = (int)Prefix.shape[1], t = (int)Target.shape[1];
        return [.. Enumerable.Range(0, (int)Size).Select(i => new Example(
            [.. prefixes.AsSpan(i * p, p).ToArray().Select(x => (int)x)],
            [.. targets.AsSpan(i * t, t).ToArray().Select(x => (int)x)]))];
    }
}

/// <summary>A task's examples as one int64 tensor (N, P + T), so batches are built by indexing, not copying arrays.</summary>
public sealed class TokenDataset : IDisposable
{
    private readonly Tensor _tokens; // (N, P + T)

    public TokenDataset(ITask task, IReadOnlyList<Example> examples)
    {
        if (examples.Count == 0) throw new UserError("the data set is empty");
        PrefixLength = task.PrefixLength;
        TargetLength = task.TargetLength;
        int width = PrefixLength + TargetLength;
        var flat = new long[examples.Count * width];
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            for (int j = 0; j < PrefixLength; j++) flat[i * width + j] = e.Prefix[j];
            for (int j = 0; j < TargetLength; j++) flat[i * width + PrefixLength + j] = e.Target[j];
        }
        _tokens = tensor(flat, [examples.Count, width], ScalarType.Int64);
        Count = examples.Count;
    }

    public int Count { get; }
    public int PrefixLength { get; }
    public int TargetLength { get; }

    /// <summary><paramref name="count"/> examples from <paramref name="draw"/> as a data set; see <see cref="Draw"/>.</summary>
    public static TokenDataset Generate(ITask task, int count, SeededRandom random, Func<SeededRandom, Example>? draw = null, ProblemSet? apart = null) =>
        new(task, [.. Draw(task, count, random, draw, apart)]);

    /// <summary>
    /// <paramref name="count"/> examples from <paramref name="draw"/> (the task's own generator when null), skipping
    /// every draw that asks a problem of <paramref name="apart"/>: deterministic in the random stream either way.
    /// </summary>
    public static IEnumerable<Example> Draw(ITask task, int count, SeededRandom random, Func<SeededRandom, Example>? draw = null, ProblemSet? apart = null)
    {
        draw ??= task.Generate;
        long skipped = 0, mostSkips = 10L * count + 10_000;
        for (int kept = 0; kept < count;)
        {
            var example = draw(random);
            if (apart?.Contains(example) != true)
            {
                kept++;
                yield return example;
            }
            else if (++skipped > mostSkips) // a data file held apart (data --apart) can cover most of a small task
                throw new UserError($"{task.Description}: {skipped:N0} draws asked a problem held apart, for {kept:N0} of {count:N0} kept: " +
                                    $"too few of its {task.ProblemCount:N0} problems are left");
        }
    }

    /// <summary>The examples back as token ids.</summary>
    public IReadOnlyList<Example> Examples() => Slice(0, Count).Examples();

    /// <summary>Rows <paramref name="indices"/> (int64, (B,)) as a batch.</summary>
    public Batch Take(Tensor indices) => Split(_tokens.index_select(0, indices));

    public Batch Slice(int start, int count) => Split(_tokens.narrow(0, start, Math.Min(count, Count - start)));

    private Batch Split(Tensor rows) =>
        new(rows.narrow(1, 0, PrefixLength), rows.narrow(1, PrefixLength, TargetLength));

    public void Dispose() => _tokens.Dispose();
}
