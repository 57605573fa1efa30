using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Probes;

/// <summary>The examples probes run on, and the small conversions they share.</summary>
public static class ProbeData
{
    /// <summary>Fresh in-distribution examples from their own seed stream, apart from the run's train and test sets.</summary>
    public static IReadOnlyList<Example> Examples(ITask task, int count, int seed)
    {
        if (count < 1) throw new UserError($"--examples must be at least 1, got {count}");
        var random = SeededRandom.For(seed, "probe");
        return Enumerable.Range(0, count).Select(_ => task.Generate(random)).ToList();
    }

    internal static IBranchingTask Branching(ITask task, string probe) => task as IBranchingTask
        ?? throw new UserError($"the {probe} probe needs a task whose first decision picks a branch (path-star); '{task.Name}' has none");

    /// <summary>Rows start..start+count-1 of equal-length int arrays as an int64 tensor (count, width).</summary>
    internal static Tensor Rows(IReadOnlyList<int[]> rows, int start, int count)
    {
        int width = rows[start].Length;
        var flat = new long[count * width];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < width; j++) flat[i * width + j] = rows[start + i][j];
        return tensor(flat, [count, width], ScalarType.Int64);
    }
}
