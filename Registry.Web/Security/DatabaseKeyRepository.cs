using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Core.Persistence;

namespace Registry.Web.Security;

/// <summary>
/// Keeps data-protection keys in the catalogue's database, so that a cookie or an antiforgery token
/// made by one instance is accepted by every other, and a restart does not sign anybody out.
/// </summary>
internal sealed class DatabaseKeyRepository(IDbContextFactory<RegistryDbContext> factory) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var db = factory.CreateDbContext();
        return db.ProtectionKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).ToList().Select(x => XElement.Parse(x)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var db = factory.CreateDbContext();
        db.ProtectionKeys.Add(new ProtectionKey { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
    }
}
