package session

import (
	"strings"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
)

// roleChange is CREATE/ALTER ROLE: passwords are stored as SCRAM-SHA-256
// verifiers, never in clear.
func roleChange(x *sql.Role) func(*log.Catalog) error {
	verifier := ""
	if x.Password != nil {
		verifier = pgwire.NewSCRAMVerifier(*x.Password)
	}
	return func(c *log.Catalog) error {
		r, exists := c.Roles[x.Name]
		switch {
		case x.Alter && !exists:
			return pgerr.New(pgerr.UndefinedObject, "role %q does not exist", x.Name)
		case !x.Alter && exists:
			return pgerr.New(pgerr.DuplicateObject, "role %q already exists", x.Name)
		case !exists:
			r = &log.RoleDesc{Name: x.Name, Login: x.User}
		default:
			cp := *r
			r = &cp
		}
		if x.Password != nil {
			r.Verifier = verifier
		}
		if x.PasswordNull {
			r.Verifier = ""
		}
		for _, o := range x.Options {
			switch strings.ToUpper(o.Name) {
			case "LOGIN":
				r.Login = true
			case "NOLOGIN":
				r.Login = false
			case "SUPERUSER":
				r.Superuser = true
			case "NOSUPERUSER":
				r.Superuser = false
			}
		}
		c.Roles[x.Name] = r
		return nil
	}
}

func dropRoles(x *sql.Drop) func(*log.Catalog) error {
	return func(c *log.Catalog) error {
		for _, n := range x.Names {
			if _, ok := c.Roles[n.Name]; !ok {
				if x.IfExists {
					continue
				}
				return pgerr.New(pgerr.UndefinedObject, "role %q does not exist", n.Name)
			}
			delete(c.Roles, n.Name)
		}
		return nil
	}
}
