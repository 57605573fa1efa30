using Foresight.Methods;
using Foresight.Search;
using Foresight.Tasks;

namespace Foresight.Probes;

/// <summary>What search with the verifier adds to a model's greedy answer, and what it costs.</summary>
public sealed record SearchProbeResult(int Examples, SearchMetrics Greedy, SearchMetrics Backtrack, SearchMetrics BestOfK);

/// <summary>
/// The optimists' answer, measured: the same model decoded greedily, by best of k samples the verifier
/// picks from, and by depth-first backtracking the verifier prunes, with tokens written per instance.
/// </summary>
public static class SearchProbe
{
    public const string Name = "search";
    public const int Samples = 4;

    public static bool Applies(ITrainingMethod method, ITask task) => method is IStepwiseDecoder && task is IVerifiableTask;

    public static SearchProbeResult Run(ITrainingMethod method, ITask task, IReadOnlyList<Example> examples, int seed)
    {
        if (!Applies(method, task))
            throw new UserError("the search probe needs a run of a method that writes one token at a time (ntp, reverse, mtp, bst, nextlat, grpo) on a task with a verifier");
        using var data = new TokenDataset(task, examples);
        SearchMetrics With(ISearchDecoder decoder) => SearchDecoding.Evaluate(method, task, data, decoder);
        return new SearchProbeResult(examples.Count, With(new GreedyDecoder()), With(new Backtracking(Backtracking.DefaultBudget)),
            With(new VerifiedSampling(Samples, temperature: 1, seed)));
    }
}
