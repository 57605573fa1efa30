using System.Text.Json.Nodes;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Probes;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;
using static TorchSharp.torch;

namespace Foresight.Tests;

/// <summary>Each probe's arithmetic, on scripted models whose answers are known, on synthetic features, and on a tiny trained run.</summary>
public sealed class ProbeTests
{
    private static readonly PathStarTask Task = new(2, 5, 30);

    public enum Behaviour { CleverHans, CopiesGoalAtTheEnd, Planner }

    /// <summary>
    /// A stand-in model with a fixed policy. After a forced start it either follows the forced arm
    /// (the Clever-Hans cheat), follows it but writes the goal last, or ignores it and writes the
    /// true path. Teacher-forced, it always picks the smaller child first. Its prefix states are
    /// noise at layer 0, the first decision node (one-hot) at layer 1 and the goal at layer 2.
    /// </summary>
    private sealed class ScriptedMethod(Behaviour behaviour) : ITrainingMethod, ILeftToRightDecoder, IPrefixStates
    {
        private readonly nn.Module _model = nn.Linear(1, 1);
        public nn.Module Model => _model;
        public int TokensPerExample => Task.PrefixLength + Task.TargetLength - 1;
        public Tensor Loss(Batch batch) => throw new NotSupportedException();
        public Tensor Decode(Tensor prefix) => throw new NotSupportedException();
        public IMethodOptions? ResolvedOptions => null;

        public Tensor TeacherForced(Batch batch) => Map(batch.Prefix, (_, example, branches) =>
        {
            var answer = (int[])example.Target.Clone();
            answer[1] = branches.Min(b => b[1]);
            return answer;
        });

        public Tensor Continue(Tensor prefix, Tensor forcedTarget) => Map(prefix, (row, example, branches) =>
        {
            int forcedFirst = (int)forcedTarget[row, 1].item<long>();
            var forcedArm = (int[])branches.Single(b => b[1] == forcedFirst).Clone();
            return behaviour switch
            {
                Behaviour.CleverHans => forcedArm,
                Behaviour.CopiesGoalAtTheEnd => forcedArm[..^1].Append(example.Target[^1]).ToArray(),
                _ => forcedArm[..2].Concat(example.Target[2..]).ToArray(),
            };
        });

        public Tensor PrefixStates(Tensor prefix)
        {
            var firstNodes = Map(prefix, (_, example, _) => [example.Target[1]]).squeeze(1); // (B,)
            var noise = randn(prefix.shape[0], Task.VocabularySize, generator: new Generator(7));
            var plan = nn.functional.one_hot(firstNodes, Task.VocabularySize).to_type(ScalarType.Float32) + 0.1f * noise;
            var goal = nn.functional.one_hot(prefix.select(1, -2), Task.VocabularySize).to_type(ScalarType.Float32) + 0.1f * noise;
            return stack([noise, plan, goal], 0); // (3, B, V)
        }

        /// <summary>Applies a per-row policy to (row index, the row's example with its true target, its branches).</summary>
        private static Tensor Map(Tensor prefix, Func<int, Example, IReadOnlyList<int[]>, int[]> policy)
        {
            var rows = new List<int[]>();
            for (int i = 0; i < prefix.shape[0]; i++)
            {
                var tokens = prefix[i].data<long>().Select(t => (int)t).ToArray();
                var branches = Task.Branches(new Example(tokens, new int[Task.TargetLength]));
                int goal = tokens[^2];
                var example = new Example(tokens, branches.Single(b => b[^1] == goal));
                rows.Add(policy(i, example, branches));
            }
            return ProbeData.Rows(rows, 0, rows.Count);
        }

        public void Dispose() => _model.Dispose();
    }

    private static IReadOnlyList<Example> Examples(int count) => ProbeData.Examples(Task, count, seed: 1);

    [Fact]
    public void Path_star_branches_are_the_arms_with_the_true_path_among_them()
    {
        foreach (var example in Examples(50))
        {
            var branches = Task.Branches(example);
            Assert.Equal(Task.Degree, branches.Count);
            Assert.Contains(branches, b => b.SequenceEqual(example.Target));
            Assert.All(branches, b => Assert.Equal(example.Target[0], b[0]));
            Assert.Equal(branches.Count, branches.Select(b => b[1]).Distinct().Count());
        }
    }

    [Theory]
    [InlineData(Behaviour.CleverHans, 1.0, 1.0, 0.0)]
    [InlineData(Behaviour.CopiesGoalAtTheEnd, 0.0, 1.0, 1.0)]
    [InlineData(Behaviour.Planner, 0.0, 0.0, 1.0)]
    public void Clever_hans_probe_counts_how_forced_continuations_go_on(Behaviour behaviour, double follow, double beforeLast, double endsAtGoal)
    {
        var examples = Examples(40);
        using var method = new ScriptedMethod(behaviour);
        var result = CleverHansProbe.Run(method, Task, examples, batchSize: 7);

        Assert.Equal(40, result.Examples);
        Assert.Equal(40, result.ForcedContinuations); // d - 1 = 1 wrong arm each
        Assert.Equal(2, result.FirstFreePosition);
        Assert.Equal(follow, result.FollowRate);
        Assert.Equal(beforeLast, result.FollowRateBeforeLast);
        Assert.Equal(endsAtGoal, result.EndsAtGoalRate);
        double[] byPosition = behaviour switch
        {
            Behaviour.CleverHans => [1, 1, 1],
            Behaviour.CopiesGoalAtTheEnd => [1, 1, 0],
            _ => [0, 0, 0],
        };
        Assert.Equal(byPosition, result.FollowRateByPosition);

        double smallerChildIsRight = examples.Count(e => e.Target[1] == Task.Branches(e).Min(b => b[1])) / 40.0;
        Assert.Equal([1, smallerChildIsRight, 1, 1, 1], result.TeacherForcedByPosition);
        Assert.Equal(smallerChildIsRight, result.FirstDecisionTeacherForced);
        Assert.Equal(1.0, result.LaterTeacherForced);
    }

    [Fact]
    public void Clever_hans_probe_needs_a_left_to_right_method()
    {
        manual_seed(0);
        using var reverse = MethodRegistry.Create("reverse", new MethodContext(Task, new ModelSize(1, 16, 2)));
        var error = Assert.ThrowsAny<UserError>(() => CleverHansProbe.Run(reverse, Task, Examples(4)));
        Assert.Contains("left to right in task order", error.Message);
    }

    [Fact]
    public void Linear_probe_reads_a_linearly_encoded_label_and_nothing_from_shuffled_labels()
    {
        var generator = new Generator(11);
        var labels = arange(2500, dtype: ScalarType.Int64) % 4; // balanced, so chance is 1/4
        var directions = randn(4, 16, generator: generator);
        var x = 3 * nn.functional.one_hot(labels, 4).to_type(ScalarType.Float32).matmul(directions) + randn(2500, 16, generator: generator);
        var shuffled = labels.index_select(0, Trainer.Permutation(2500, new SeededRandom(5)));
        var (fitX, heldOutX, heldOutY) = (x.narrow(0, 0, 2000), x.narrow(0, 2000, 500), labels.narrow(0, 2000, 500));

        using var probe = LinearProbe.Fit(fitX, labels.narrow(0, 0, 2000), classes: 4);
        Assert.True(probe.Accuracy(heldOutX, heldOutY) > 0.98);

        using var control = LinearProbe.Fit(fitX, shuffled.narrow(0, 0, 2000), classes: 4);
        Assert.InRange(control.Accuracy(heldOutX, heldOutY), 0.25 - 0.06, 0.25 + 0.06);
    }

    [Fact]
    public void Candidate_accuracy_only_chooses_among_each_rows_candidates()
    {
        // Ordered classes on one feature: 0 at x = -1, 1 at x = 0, 2 at x = +1.
        var x = tensor(Enumerable.Range(0, 30).Select(i => (float)(i / 10 - 1)).ToArray()).unsqueeze(1);
        var y = tensor(Enumerable.Range(0, 30).Select(i => (long)(i / 10)).ToArray());
        using var probe = LinearProbe.Fit(x, y, classes: 3);

        var rows = tensor(new float[] { -1, 1, -1, 1 }).unsqueeze(1);
        var labels = tensor(new long[] { 1, 1, 0, 0 });
        var candidates = tensor(new long[,] { { 1, 2 }, { 0, 1 }, { 2, 0 }, { 0, 2 } });
        // Among its candidates each row picks the class nearest its x: 1, 1, 0, 2; the last is wrong.
        Assert.Equal(0.75, probe.CandidateAccuracy(rows, labels, candidates));
        Assert.Equal(0.25, probe.Accuracy(rows, labels)); // over all classes: 0, 2, 0, 2
    }

    [Fact]
    public void Planning_probe_finds_the_plan_where_it_is_encoded_and_chance_where_it_is_not()
    {
        using var method = new ScriptedMethod(Behaviour.Planner);
        var result = PlanningProbe.Run(method, Task, Examples(1500), seed: 0);

        Assert.Equal(1200, result.TrainExamples);
        Assert.Equal(300, result.HeldOutExamples);
        Assert.Equal(0.5, result.Chance);
        Assert.Equal(3, result.Layers.Length);
        var (noise, plan, goal) = (result.Layers[0], result.Layers[1], result.Layers[2]);
        Assert.InRange(noise.BranchAccuracy, 0.5 - 0.1, 0.5 + 0.1);
        Assert.True(noise.NodeAccuracy < 0.15);
        Assert.True(noise.GoalAccuracy < 0.15);
        Assert.Equal(1.0, plan.BranchAccuracy);
        Assert.Equal(1.0, plan.NodeAccuracy);
        Assert.InRange(plan.ShuffledBranchAccuracy, 0.5 - 0.1, 0.5 + 0.1);
        Assert.True(plan.GoalAccuracy < 0.15);
        Assert.InRange(goal.BranchAccuracy, 0.5 - 0.1, 0.5 + 0.1);
        Assert.Equal(1.0, goal.GoalAccuracy);
        Assert.Equal(1, result.Best.Layer);
    }

    [Fact]
    public void Indecipherable_probe_reads_first_decision_accuracy_over_training_from_the_metrics()
    {
        using var temp = new TempDirectory();
        RunDirectory.Create(temp.Path).WriteConfig(new RunConfig("ntp", Task.Spec, new ModelSize(1, 16, 2), new TrainingConfig()));
        var lines = new[] { (1000, 0.20, 0.3, 100), (2000, 0.56, 0.5, 100), (3000, 0.47, 0.6, 1000) };
        File.WriteAllLines(Path.Combine(temp.Path, "metrics.jsonl"), lines.Select((l, i) => new EvaluationLine(i + 1, 0, l.Item1, 1e-3, 1.0, i,
            new Evaluation.EvalMetrics(l.Item4, 0, l.Item2, 0.5, [1, l.Item2, 1, 1, 1], 0.9, [1, l.Item3, 1, 1, 1])).ToJson().ToJsonString()));
        var result = IndecipherableProbe.Run(RunDirectory.Open(temp.Path));

        Assert.Equal([new(1000, 0.20, 0.3), new(2000, 0.56, 0.5), new(3000, 0.47, 0.6)], result.Curve);
        Assert.Equal(0.6, result.FinalTeacherForced);
        Assert.Equal(0.47, result.FinalAccuracy);
        Assert.Equal(1000, result.FinalExamples);
        Assert.Equal(1.96 * Math.Sqrt(0.25 / 1000), result.FinalMargin95, 12); // 0.031
        Assert.True(result.FinalAtChance);
        Assert.Equal(0.56, result.PeakAccuracy);
    }

    [Fact]
    public void Probe_suite_on_a_tiny_trained_run_writes_each_probe_and_agrees_with_the_evaluator()
    {
        using var temp = new TempDirectory();
        var task = new PathStarTask(2, 4, 20);
        var config = new RunConfig("ntp", task.Spec, new ModelSize(1, 32, 2),
            new TrainingConfig(TrainSamples: 2048, TestSamples: 64, BatchSize: 64, WarmupSteps: 4, EvalSamples: 64, LearningRate: 2e-3));
        var run = RunDirectory.Create(temp["ntp"]);
        var (train, test) = Trainer.MakeData(task, config.Training);
        using (train)
        using (test)
            Trainer.Train(config, train, test, run);

        var sizes = new ProbeSizes(CleverHansExamples: 200, PlanningExamples: 500);
        var written = ProbeSuite.Run(run, sizes);
        string[] applicable = [CleverHansProbe.Name, IndecipherableProbe.Name, PlanningProbe.Name, SearchProbe.Name]; // decode-order and steps are for diffusion
        Assert.Equal(applicable, written.Keys.Order());
        foreach (string name in applicable) Assert.True(File.Exists(run.ProbeFile(name)));

        // The Clever-Hans probe's teacher-forced accuracies are the evaluator's on the same examples.
        var (_, _, method) = Trainer.LoadTrained(run);
        using (method)
        using (var probeSet = new TokenDataset(task, ProbeData.Examples(task, 200, config.Training.Seed)))
        {
            var evaluated = Evaluation.Evaluator.Evaluate(method, task, probeSet);
            Assert.Equal(evaluated.TeacherForcedPerPosition, ((CleverHansResult)written[CleverHansProbe.Name]).TeacherForcedByPosition);
            // The search probe's greedy row is the evaluator's greedy decoding, read through the step-by-step interface.
            Assert.Equal(evaluated.ExactMatch, ((SearchProbeResult)written[SearchProbe.Name]).Greedy.ExactMatch);
        }
        var plan = (PlanningProbeResult)written[PlanningProbe.Name];
        Assert.Equal(2, plan.Layers.Length); // embeddings + 1 block
        Assert.Equal(400, plan.TrainExamples);

        // Probes are deterministic: the same run probed again gives the same numbers.
        var again = ProbeSuite.Run(run, sizes, PlanningProbe.Name);
        Assert.Equal(plan.Layers, ((PlanningProbeResult)again[PlanningProbe.Name]).Layers);
        // What the file holds reads back as the same record.
        Assert.Equal(plan.Layers, ((PlanningProbeResult)ProbeSuite.Read(run)[PlanningProbe.Name]).Layers);
    }

    [Fact]
    public void Probe_suite_skips_probes_that_do_not_apply_unless_asked_for_by_name()
    {
        using var temp = new TempDirectory();
        var task = new PathStarTask(2, 4, 20);
        var config = new RunConfig("reverse", task.Spec, new ModelSize(1, 16, 2),
            new TrainingConfig(TrainSamples: 256, TestSamples: 32, BatchSize: 64, WarmupSteps: 1, EvalSamples: 32));
        var run = RunDirectory.Create(temp["reverse"]);
        var (train, test) = Trainer.MakeData(task, config.Training);
        using (train)
        using (test)
            Trainer.Train(config, train, test, run);

        var log = new List<string>();
        var written = ProbeSuite.Run(run, new ProbeSizes(20, 50), log: log.Add);
        Assert.DoesNotContain(CleverHansProbe.Name, written.Keys);
        Assert.False(File.Exists(run.ProbeFile(CleverHansProbe.Name)));
        Assert.Contains(log, l => l.StartsWith("clever-hans: skipped"));
        Assert.ThrowsAny<UserError>(() => ProbeSuite.Run(run, new ProbeSizes(20, 50), CleverHansProbe.Name));
        Assert.Equal("unknown probe 'plans' (known: clever-hans, decode-order, steps, indecipherable, plan, search)",
            Assert.ThrowsAny<UserError>(() => ProbeSuite.Run(run, new ProbeSizes(), "plans")).Message);
    }
}
