using AiGateway.Configuration;

namespace AiGateway.Usage;

/// <summary>Whose spend a budget bounds.</summary>
internal enum BudgetScope
{
    Key,
    Team,
}

/// <summary>A compiled budget: one key's or one team's daily and monthly dollars (either may be absent).</summary>
internal sealed record Budget(BudgetScope Scope, string Name, double? DailyUsd, double? MonthlyUsd)
{
    public static Budget? From(BudgetScope scope, string name, BudgetSettings? settings) =>
        settings is null || settings.DailyUsd is null && settings.MonthlyUsd is null
            ? null
            : new Budget(scope, name, settings.DailyUsd, settings.MonthlyUsd);

    /// <summary>The scope as the spend table and messages name it.</summary>
    public string ScopeLabel => Scope == BudgetScope.Key ? SpendDaily.KeyScope : SpendDaily.TeamScope;
}
