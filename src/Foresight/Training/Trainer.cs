using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Foresight.Evaluation;
using Foresight.Methods;
using Foresight.Runs;
using Foresight.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace Foresight.Training;

/// <summary>Where training is, for progress bars: called after every optimizer step.</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, long SamplesSeen, double Loss, double LearningRate);

/// <summary>Training stopped on request at a step boundary, its checkpoint written: resuming goes on from <see cref="Step"/>.</summary>
public sealed class TrainingInterrupted(int step, string run) : Exception($"training stopped at step {step} on request; its checkpoint is in {run}")
{
    public int Step { get; } = step;
    public string Run { get; } = run;
}

/// <summary>One trainer for every method: AdamW, warmup + cosine schedule, gradient clipping, periodic evaluation.</summary>
public static class Trainer
{
    /// <summary>
    /// The train and test sets of a run, deterministic in the seed. The test set is drawn first, from its own stream;
    /// the training stream then skips every example that asks a test problem (<see cref="ITask.ProblemKey"/>), so no
    /// test problem is trained on. The test set first, because it is the yardstick: it stays an unbiased draw from the
    /// task (the same problems as before the training stream skipped anything), while the training set is the task
    /// less the few problems held apart. Runs recorded before this (training.test_set "independent") drew two
    /// independent streams, and rebuild exactly their data.
    /// </summary>
    public static (TokenDataset Train, TokenDataset Test) MakeData(ITask task, TrainingConfig config)
    {
        var test = MakeTestSet(task, config);
        try { return (MakeTrainingSet(task, config, test), test); }
        catch { test.Dispose(); throw; }
    }

    /// <summary>The training set; <paramref name="test"/>, the run's test set, is drawn again when not given.</summary>
    public static TokenDataset MakeTrainingSet(ITask task, TrainingConfig config, TokenDataset? test = null)
    {
        var random = SeededRandom.For(config.Seed, "train");
        if (config.TestSet == TestSetDraw.Independent) return TokenDataset.Generate(task, config.TrainSamples, random);
        ProblemSet apart;
        if (test is not null) apart = HeldApart(task, config, test);
        else
        {
            using var drawn = MakeTestSet(task, config);
            apart = HeldApart(task, config, drawn);
        }
        return TokenDataset.Generate(task, config.TrainSamples, random, apart: apart);
    }

    /// <summary>The test set; for an open-ended task, the prompts its answers are generated for (fresh seed strings).</summary>
    public static TokenDataset MakeTestSet(ITask task, TrainingConfig config) =>
        TokenDataset.Generate(task, config.TestSamples, SeededRandom.For(config.Seed, "test"), task is IOpenEndedTask open ? open.GeneratePrompt : null);

    /// <summary>The test set's problems, which the training stream skips; an error when they are too large a share of the task's.</summary>
    private static ProblemSet HeldApart(ITask task, TrainingConfig config, TokenDataset test)
    {
        var problems = ProblemSet.Of(task, test.Examples());
        if (problems.ShareOfTask > ProblemSet.MaxShareOfTask)
            throw new ConfigError("training.test_samples",
                $"is {config.TestSamples:N0}: those examples ask {problems.Count:N0} of the {task.ProblemCount:N0} problems {task.Description} has " +
                $"({100 * problems.ShareOfTask:F0}%), more than the {100 * ProblemSet.MaxShareOfTask:F0}% that can be held apart from training with both sets still drawn from one distribution; " +
                "ask for fewer test examples or a larger task");
        return problems;
    }

    /// <summary>How many of <paramref name="examples"/> ask a problem the training set <paramref name="train"/> has; null for a task whose prompts carry none.</summary>
    public static int? TrainedOn(ITask task, TokenDataset train, IReadOnlyList<Example> examples) =>
        examples.Count > 0 && task.ProblemKey(examples[0]) is null ? null : ProblemSet.Of(task, train.Examples()).CountIn(examples);

    /// <summary>The answer keys an open-ended task's generations are checked against (null for other tasks).</summary>
    public static AnswerMemory? Memory(ITask task, TokenDataset train) =>
        task is IOpenEndedTask open ? AnswerMemory.Of(open, train.Examples()) : null;

    /// <summary>The run's method with its model initialised from the seed (and, for one that fine-tunes a saved run, that run found).</summary>
    public static ITrainingMethod BuildMethod(RunConfig config)
    {
        var task = config.Task.Build();
        var start = config.MethodOptions is IStartsFromRun { Init: { } init } ? StartingRun(init, config) : null;
        manual_seed(config.Training.Seed);
        return MethodRegistry.Create(config.Method, new MethodContext(task, config.Model, config.Training.LossPositions, config.Options, start));
    }

    /// <summary>
    /// The saved run <paramref name="init"/>, which must have finished on <paramref name="config"/>'s task and model:
    /// a fine-tuning method starts from its trained weights.
    /// </summary>
    private static StartingRun StartingRun(string init, RunConfig config)
    {
        string field = $"{config.Method}.init"; // IStartsFromRun.Init
        var run = RunDirectory.Open(init);
        if (!File.Exists(run.SummaryFile)) throw new ConfigError(field, $"'{init}' has not finished (no summary.json)");
        var from = run.ReadConfig();
        string? mismatch =
            from.Task != config.Task ? $"its task is {from.Task.Build().Description}, this run's is {config.Task.Build().Description}"
            : from.Model != config.Model ? $"its model is {from.Model.Layers} x {from.Model.Width} ({from.Model.Heads} heads, {Json.EnumName(from.Model.Positions)} positions); give the same --layers, --width, --heads and --positions"
            : null;
        if (mismatch is not null) throw new ConfigError(field, $"'{init}' cannot start this {config.Method} run: {mismatch}");
        return new StartingRun(init, from.Method, () => LoadTrained(run).Method);
    }

    /// <summary>
    /// Builds the run's method once and throws it away, so that a method rejecting its options does so
    /// with its one-line error before any run directory is written.
    /// </summary>
    public static void CheckBuilds(RunConfig config)
    {
        using var _ = BuildMethod(config);
    }

    /// <summary>
    /// A saved run rebuilt from its config.json, with its checkpoint loaded. Dispose the method.
    /// <paramref name="options"/> replaces the run's method options, e.g. to decode with another sampler.
    /// </summary>
    public static (RunConfig Config, ITask Task, ITrainingMethod Method) LoadTrained(RunDirectory run, IMethodOptions? options = null)
    {
        var config = run.ReadConfig();
        if (options is not null) config = config with { Options = options };
        var method = BuildMethod(config);
        try { run.LoadCheckpoint(method.Model); }
        catch { method.Dispose(); throw; }
        return (config, config.Task.Build(), method);
    }

    /// <summary>
    /// Trains a run from scratch, or with <paramref name="resume"/> continues it from its last
    /// training checkpoint; either way the final metrics are the same as an uninterrupted run's.
    /// </summary>
    public static RunResult Train(
        RunConfig runConfig, TokenDataset train, TokenDataset test, RunDirectory run,
        Action<TrainingProgress>? onStep = null, Action<EvaluationLine>? onEvaluation = null, bool resume = false, Func<EvaluationLine, bool>? stopWhen = null,
        CancellationToken interrupt = default)
    {
        var config = runConfig.Training;
        config.Validate();
        if (!resume) run.WriteConfig(runConfig);
        var task = runConfig.Task.Build();
        using var method = BuildMethod(runConfig);
        var parameters = method.Model.parameters().ToList();
        using var optimizer = Optimizer(method.Model, config);
        var position = resume
            ? TrainingCheckpoint.Load(run.TrainingCheckpointFile, method.Model, optimizer)
            : new TrainingPosition(0, 0, 0, SeededRandom.For(config.Seed, "order").State, 0, 0, 0, double.NaN, 0);
        if (resume) run.DropMetricsAfter(position.Step);
        else TrainingCheckpoint.Save(run.TrainingCheckpointFile, position, method.Model, optimizer); // a run killed before its first evaluation can resume too
        var order = new SeededRandom(position.EpochOrderState);
        var board = new TensorBoardLog(run.Path);
        var memory = Memory(task, train);
        method.Model.train();

        var clock = new Stopwatch();
        int step = position.Step;
        long samplesSeen = position.SamplesSeen;
        double lossSum = position.LossSum, lastLoss = position.LastLoss;
        int lossCount = position.LossCount;
        double TrainSeconds() => position.TrainSeconds + clock.Elapsed.TotalSeconds;
        bool stopped = false; // stopWhen said so after an evaluation
        for (int epoch = position.Epoch; epoch < config.Epochs && !stopped; epoch++)
        {
            ulong epochOrderState = order.State;
            using var permutation = Permutation(train.Count, order);
            for (int start = epoch == position.Epoch ? position.NextStart : 0; start < train.Count && !stopped; start += config.BatchSize)
            {
                clock.Start();
                double learningRate = config.LearningRateAt(step);
                double loss;
                long batchSize;
                using (NewDisposeScope())
                {
                    var batch = train.Take(permutation.narrow(0, start, Math.Min(config.BatchSize, train.Count - start)))
                        with { NoiseSeed = (long)(SeededRandom.For(config.Seed, $"noise-{step}").State >> 1) };
                    loss = Step(method, optimizer, parameters, batch, learningRate, config.GradientClip);
                    if (!double.IsFinite(loss)) throw Diverged(step + 1, loss, run);
                    batchSize = batch.Size;
                }
                clock.Stop();

                step++;
                samplesSeen += batchSize;
                lossSum += loss;
                lossCount++;
                lastLoss = loss;
                onStep?.Invoke(new TrainingProgress(step, config.TotalSteps, samplesSeen, loss, learningRate));
                board.Step(step, loss, learningRate);
                if (method is IStepStatistics statistics) board.Scalars(step, statistics.LastStep);

                if (step % config.EvalInterval == 0 && step < config.TotalSteps)
                {
                    var metrics = Evaluator.Evaluate(method, task, test, config.EvalSamples, memory: memory);
                    var trainSet = Evaluator.Evaluate(method, task, train, config.EvalSamples, memory: memory);
                    var line = new EvaluationLine(step, epoch, samplesSeen, learningRate, lossSum / lossCount, TrainSeconds(), metrics, trainSet);
                    run.AppendMetrics(line.ToJson());
                    board.Evaluation(step, metrics, trainSet);
                    lossSum = 0;
                    lossCount = 0;
                    SaveCheckpoints();
                    onEvaluation?.Invoke(line);
                    stopped = stopWhen?.Invoke(line) == true;
                }
                if (interrupt.IsCancellationRequested && step < config.TotalSteps)
                {
                    // Asked to stop (a cluster's time limit, a shutdown): keep everything needed to go on from this step.
                    SaveCheckpoints();
                    throw new TrainingInterrupted(step, run.Path);
                }

                void SaveCheckpoints()
                {
                    run.SaveCheckpoint(method.Model);
                    TrainingCheckpoint.Save(run.TrainingCheckpointFile,
                        new TrainingPosition(step, epoch, start + config.BatchSize, epochOrderState, samplesSeen, lossSum, lossCount, lastLoss, TrainSeconds()),
                        method.Model, optimizer);
                }
            }
        }

        var final = Evaluator.Evaluate(method, task, test, memory: memory);
        var finalTrainSet = Evaluator.Evaluate(method, task, train, config.EvalSamples, memory: memory);
        var finalLine = new EvaluationLine(step, config.Epochs - 1, samplesSeen, config.LearningRateAt(step - 1),
            lossCount > 0 ? lossSum / lossCount : lastLoss, TrainSeconds(), final, finalTrainSet);
        run.AppendMetrics(finalLine.ToJson());
        board.Evaluation(step, final, finalTrainSet);
        run.SaveCheckpoint(method.Model);
        onEvaluation?.Invoke(finalLine);

        double seconds = TrainSeconds();
        var stats = new TrainingStats(
            Method: runConfig.Method,
            Task: task.Description,
            Parameters: parameters.Sum(p => p.numel()),
            Steps: step,
            SamplesSeen: samplesSeen,
            TrainSeconds: seconds,
            TokensPerSecond: samplesSeen * method.TokensPerExample / seconds,
            FinalTrainLoss: lastLoss);
        var result = new RunResult(stats, final, method.ResolvedOptions, finalTrainSet, Convergence.Judge(run.ReadEvaluations(), runConfig),
            TrainedOn(task, train, test.Examples()));
        run.WriteSummary(result.ToJson());
        return result;
    }

    /// <summary>
    /// AdamW over the model's parameters. With <see cref="WeightDecayOn.Matrices"/> (nanoGPT's rule) two groups: the weight
    /// matrices, decayed, and the rest, not: biases, norms, the learned position table and a Mamba's A_log.
    /// </summary>
    internal static AdamW Optimizer(nn.Module model, TrainingConfig config)
    {
        if (config.WeightDecayOn == WeightDecayOn.All)
            return new AdamW([new AdamW.ParamGroup(model.parameters(), config.LearningRate, 0.9, 0.999, 1e-8, config.WeightDecay)], config.LearningRate, config.WeightDecay);
        var named = model.named_parameters().ToList();
        static bool Decayed((string name, TorchSharp.Modules.Parameter parameter) p) =>
            p.parameter.dim() >= 2 && !p.name.Contains("position_embedding") && !p.name.EndsWith("A_log");
        return new AdamW(
        [
            new AdamW.ParamGroup(named.Where(Decayed).Select(p => p.parameter), config.LearningRate, 0.9, 0.999, 1e-8, config.WeightDecay),
            new AdamW.ParamGroup(named.Where(p => !Decayed(p)).Select(p => p.parameter), config.LearningRate, 0.9, 0.999, 1e-8, 0),
        ], config.LearningRate, config.WeightDecay);
    }

    /// <summary>
    /// One optimizer step on one batch: the loss, its gradient, the norm clip (none at 0) and the AdamW update. Returns the
    /// loss; a non-finite loss is returned before anything is updated, so the caller can stop on it.
    /// <paramref name="phases"/>, when given, records when each part began and ended (the bench's profile).
    /// </summary>
    public static double Step(ITrainingMethod method, AdamW optimizer, IList<TorchSharp.Modules.Parameter> parameters, Batch batch, double learningRate, double gradientClip,
        StepPhases? phases = null)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
        phases?.Begin(StepPhase.Forward);
        var lossTensor = method.Loss(batch);
        double loss = lossTensor.item<float>();
        if (!double.IsFinite(loss)) return loss;
        phases?.Begin(StepPhase.Backward);
        method.Model.zero_grad(set_to_none: false); // reuse the gradient buffers instead of reallocating them each step
        lossTensor.backward();
        phases?.Begin(StepPhase.Clip);
        if (gradientClip > 0) nn.utils.clip_grad_norm_(parameters, gradientClip);
        phases?.Begin(StepPhase.Optimizer);
        optimizer.Update();
        phases?.End();
        return loss;
    }

    /// <summary>The update with the bad loss is never applied, so the last checkpoint (if any) is a good one.</summary>
    private static UserError Diverged(int step, double loss, RunDirectory run) => new(
        $"training diverged at step {step}: the loss is {loss}. " +
        (File.Exists(run.CheckpointFile) ? $"The last good checkpoint is {run.CheckpointFile}. " : "No checkpoint was written yet. ") +
        "Try a lower --lr");

    /// <summary>A uniform permutation of 0..count-1 as an int64 tensor.</summary>
    internal static Tensor Permutation(int count, SeededRandom random)
    {
        var indices = new long[count];
        for (int i = 0; i < count; i++) indices[i] = i;
        random.Shuffle(indices);
        return tensor(indices, ScalarType.Int64);
    }
}
