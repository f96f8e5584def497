using EdgeSigner.Contracts.Flags;
using EdgeSigner.Ingress.Tenants;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Flags;

/// <summary>
/// The initial flags from configuration (<c>EdgeSigner:Flags</c>) meet the same limits as a change through
/// <c>/admin/flags</c> (<see cref="FlagCommand"/>), checked at start.
/// </summary>
public sealed class EdgeSignerFlagsValidator : IValidateOptions<EdgeSignerFlags>
{
    public const string SectionName = "EdgeSigner:Flags";

    public ValidateOptionsResult Validate(string? name, EdgeSignerFlags options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.MaxPayloadSize is < 1 or > FlagCommand.MaxPayloadLimit)
        {
            errors.Add($"{SectionName}:MaxPayloadSize must be from 1 to {FlagCommand.MaxPayloadLimit}, not {options.MaxPayloadSize}.");
        }

        if (options.KmsTimeoutMs is < FlagCommand.MinKmsTimeoutMs or > FlagCommand.MaxKmsTimeoutMs)
        {
            errors.Add($"{SectionName}:KmsTimeoutMs must be from {FlagCommand.MinKmsTimeoutMs} to {FlagCommand.MaxKmsTimeoutMs}, not {options.KmsTimeoutMs}.");
        }

        if (options.TenantAllowlist.Count > FlagCommand.MaxAllowlist)
        {
            errors.Add($"{SectionName}:TenantAllowlist may hold at most {FlagCommand.MaxAllowlist} tenants.");
        }

        errors.AddRange(options.TenantAllowlist.Where(t => !TenantIds.IsValid(t))
            .Select(t => $"{SectionName}:TenantAllowlist: '{t}' is not a tenant id (^[a-z0-9][a-z0-9-]{{0,62}}$)."));
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
