using Foresight.Methods;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Probes;

/// <summary>One layer's linear probe, scored on held-out examples.</summary>
/// <param name="Layer">0: the embeddings; k: after block k.</param>
/// <param name="BranchAccuracy">The probe's best branch among the source's d arms is the goal's (chance 1/d).</param>
/// <param name="NodeAccuracy">The probe's argmax over every label is the first decision node.</param>
/// <param name="ShuffledBranchAccuracy">The same probe fitted to shuffled labels: what the probe reaches with no information.</param>
/// <param name="GoalAccuracy">
/// Positive control: a probe for the answer's last token (path-star: the goal, which the prefix
/// states) over every label. High values show node identities can be read from this layer at all.
/// </param>
public sealed record LayerProbe(int Layer, double BranchAccuracy, double NodeAccuracy, double ShuffledBranchAccuracy, double GoalAccuracy);

public sealed record PlanningProbeResult(int TrainExamples, int HeldOutExamples, double Chance, LayerProbe[] Layers)
{
    public LayerProbe Best => Layers.MaxBy(l => l.BranchAccuracy)!;
}

/// <summary>
/// Seed 002's question: does the model represent the plan before it writes it? Freeze the model,
/// take the hidden state at every layer at the last prefix position ('=', before any answer token),
/// and fit a linear classifier for the first decision node on one split; score it on the other.
/// </summary>
public static class PlanningProbe
{
    public const string Name = "plan";

    public static PlanningProbeResult Run(ITrainingMethod method, ITask task, IReadOnlyList<Example> examples, int seed, double heldOutFraction = 0.2)
    {
        if (method is not IPrefixStates model)
            throw new UserError("the planning probe reads the model's hidden states, and this method's model does not expose them");
        var branching = ProbeData.Branching(task, "planning");
        int heldOut = (int)Math.Round(examples.Count * heldOutFraction);
        if (heldOut < 1 || heldOut >= examples.Count)
            throw new UserError($"the planning probe needs examples on both sides of its split; {examples.Count} is too few");

        using var scope = NewDisposeScope();
        var states = PrefixStates(method, model, task, examples); // (L + 1, N, C)
        var labels = tensor(examples.Select(e => (long)e.Target[task.FirstDecisionPosition]).ToArray()); // (N,)
        var goals = tensor(examples.Select(e => (long)e.Target[^1]).ToArray()); // (N,)
        var candidates = ProbeData.Rows(
            examples.Select(e => branching.Branches(e).Select(b => b[task.FirstDecisionPosition]).ToArray()).ToList(), 0, examples.Count); // (N, d)
        var shuffled = labels.index_select(0, Training.Trainer.Permutation(examples.Count, SeededRandom.For(seed, "probe-shuffle")));

        int fit = examples.Count - heldOut;
        var layers = new List<LayerProbe>();
        for (int layer = 0; layer < states.shape[0]; layer++)
        {
            var x = states[layer];
            var (trainX, testX) = (x.narrow(0, 0, fit), x.narrow(0, fit, heldOut));
            var (testY, testCandidates) = (labels.narrow(0, fit, heldOut), candidates.narrow(0, fit, heldOut));
            using var probe = LinearProbe.Fit(trainX, labels.narrow(0, 0, fit), task.VocabularySize);
            using var control = LinearProbe.Fit(trainX, shuffled.narrow(0, 0, fit), task.VocabularySize);
            using var goal = LinearProbe.Fit(trainX, goals.narrow(0, 0, fit), task.VocabularySize);
            layers.Add(new LayerProbe(layer,
                BranchAccuracy: probe.CandidateAccuracy(testX, testY, testCandidates),
                NodeAccuracy: probe.Accuracy(testX, testY),
                ShuffledBranchAccuracy: control.CandidateAccuracy(testX, testY, testCandidates),
                GoalAccuracy: goal.Accuracy(testX, goals.narrow(0, fit, heldOut))));
        }
        return new PlanningProbeResult(fit, heldOut, task.FirstDecisionChance, layers.ToArray());
    }

    private static Tensor PrefixStates(ITrainingMethod method, IPrefixStates model, ITask task, IReadOnlyList<Example> examples, int batchSize = 500)
    {
        using var data = new TokenDataset(task, examples);
        var parts = new List<Tensor>();
        using (Evaluation.Evaluator.Inference(method.Model))
            for (int start = 0; start < examples.Count; start += batchSize)
                parts.Add(model.PrefixStates(data.Slice(start, batchSize).Prefix));
        return cat(parts, 1);
    }
}
