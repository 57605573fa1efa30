namespace Foresight.Runs;

/// <summary>Which parameters AdamW's weight decay shrinks.</summary>
public enum WeightDecayOn
{
    /// <summary>Weight matrices only (dimension >= 2): not biases, norms, position tables or a Mamba's A, as nanoGPT does.</summary>
    Matrices,

    /// <summary>Every parameter: what runs recorded before the field existed did.</summary>
    All,
}

/// <summary>How a run's training set stands to its test set.</summary>
public enum TestSetDraw
{
    /// <summary>The test set is drawn first; the training stream skips every problem it asks, so none is trained on.</summary>
    Disjoint,

    /// <summary>Two independent streams, so a test problem may also be a training one: what runs recorded before the field existed did.</summary>
    Independent,
}

/// <summary>
/// How a run trains. The schedule is counted in optimizer steps: linear warmup over
/// <see cref="WarmupSteps"/>, then cosine decay to <see cref="MinLearningRateRatio"/> x the peak.
/// <see cref="LossPositions"/> narrows the loss to some target positions (a control, not a method).
/// </summary>
public sealed record TrainingConfig(
    int TrainSamples = 200_000,
    int TestSamples = 5_000,
    int Epochs = 1,
    int BatchSize = 128,
    double LearningRate = 1e-3,
    int WarmupSteps = 100,
    double MinLearningRateRatio = 0.1,
    double WeightDecay = 0.01,
    double GradientClip = 1.0,
    int Seed = 0,
    int EvalEvery = 0,
    int EvalSamples = 1_000,
    Methods.LossPositions LossPositions = Methods.LossPositions.All,
    WeightDecayOn WeightDecayOn = WeightDecayOn.Matrices,
    TestSetDraw TestSet = TestSetDraw.Disjoint)
{
    public int StepsPerEpoch => (TrainSamples + BatchSize - 1) / BatchSize;
    public int TotalSteps => StepsPerEpoch * Epochs;

    /// <summary>Steps between evaluations; 0 in the config means about ten evaluations per run.</summary>
    public int EvalInterval => EvalEvery > 0 ? EvalEvery : Math.Max(1, TotalSteps / 10);

    /// <summary>
    /// This config with <paramref name="method"/>'s own batch size and learning rate where it has them and the user did
    /// not set them: the shared defaults are tuned for ntp.
    /// </summary>
    public TrainingConfig WithOwnDefaults(string method, bool batchSizeGiven, bool learningRateGiven)
    {
        var (batchSize, learningRate) = Methods.MethodRegistry.OwnDefaults(method);
        return this with
        {
            BatchSize = batchSize > 0 && !batchSizeGiven ? batchSize : BatchSize,
            LearningRate = learningRate > 0 && !learningRateGiven ? learningRate : LearningRate,
        };
    }

    public void Validate()
    {
        Positive(TrainSamples, "train_samples");
        Positive(TestSamples, "test_samples");
        Positive(Epochs, "epochs");
        Positive(BatchSize, "batch_size");
        Positive(EvalSamples, "eval_samples");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ConfigError("training.learning_rate", $"must be a positive number, got {LearningRate}");
        if (WarmupSteps < 0) throw new ConfigError("training.warmup_steps", $"must not be negative, got {WarmupSteps}");
        if (MinLearningRateRatio is < 0 or > 1) throw new ConfigError("training.min_learning_rate_ratio", $"must be in [0, 1], got {MinLearningRateRatio}");
        if (WeightDecay < 0) throw new ConfigError("training.weight_decay", $"must not be negative, got {WeightDecay}");
        if (!(GradientClip >= 0)) throw new ConfigError("training.gradient_clip", $"must not be negative (0: no clipping), got {GradientClip}");
        if (EvalEvery < 0) throw new ConfigError("training.eval_every", $"must not be negative, got {EvalEvery}");
    }

    public double LearningRateAt(int step)
    {
        if (step < WarmupSteps) return LearningRate * (step + 1) / WarmupSteps;
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        double floor = LearningRate * MinLearningRateRatio;
        return floor + (LearningRate - floor) * cosine;
    }

    private static void Positive(int value, string field)
    {
        if (value < 1) throw new ConfigError($"training.{field}", $"must be at least 1, got {value}");
    }
}
