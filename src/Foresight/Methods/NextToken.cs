namespace Foresight.Methods;

/// <summary>Standard teacher forcing: each target token predicted from the prefix and the true earlier targets.</summary>
[Method("ntp", "teacher-forced next-token prediction", PerPositionLoss = true)]
public sealed class NextToken(MethodContext context) : LeftToRightMethod(context);
