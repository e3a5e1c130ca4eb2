//! `physical` and `alim`: a person's debts (the same parameters, another register).

use proverka_core::{Date, Params};

use super::{birthdate, flag, name, optional, region, required};
use crate::error::{ErrorCode, ValidationError};
use crate::query::Region;

/// The person search shared by `physical` and `alim` (same parameters, other register).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Person {
    lastname: String,
    firstname: String,
    secondname: Option<String>,
    birthdate: Date,
    region: Region,
    only_actual: bool,
}

impl Person {
    pub(super) fn from_params(p: Params<'_>, today: Date) -> Result<Self, ValidationError> {
        let lastname = name(
            required(
                p.first_of(&["lastname"]),
                "lastname",
                ErrorCode::MissingLastname,
            )?,
            "lastname",
        )?;
        let firstname = name(
            required(
                p.first_of(&["firstname"]),
                "firstname",
                ErrorCode::MissingFirstname,
            )?,
            "firstname",
        )?;
        let secondname = optional(p.first_of(&["secondname"]))
            .map(|v| name(v, "secondname"))
            .transpose()?;
        let birthdate = birthdate(p.first_of(&["birthdate"]), today)?;
        let region = region(p.first_of(&["region"]))?;
        if lastname.to_lowercase() == firstname.to_lowercase() {
            return Err(ValidationError::new(
                ErrorCode::ConflictLastnameFirstname,
                "lastname",
                "lastname and firstname must differ",
            ));
        }
        Ok(Self {
            lastname,
            firstname,
            secondname,
            birthdate,
            region,
            only_actual: flag(p.first_of(&["onlyActual"]))?,
        })
    }

    fn new(
        lastname: &str,
        firstname: &str,
        birthdate: &str,
        region: Region,
    ) -> Result<Self, ValidationError> {
        let region = region.as_param();
        Self::from_params(
            Params::new(&[
                ("lastname", lastname),
                ("firstname", firstname),
                ("birthdate", birthdate),
                ("region", &region),
            ]),
            Date::today_moscow(),
        )
    }

    fn with_secondname(mut self, secondname: &str) -> Result<Self, ValidationError> {
        self.secondname = optional(Some(secondname))
            .map(|v| name(v, "secondname"))
            .transpose()?;
        Ok(self)
    }

    /// Фамилия.
    pub fn lastname(&self) -> &str {
        &self.lastname
    }
    /// Имя.
    pub fn firstname(&self) -> &str {
        &self.firstname
    }
    /// Отчество, when given.
    pub fn secondname(&self) -> Option<&str> {
        self.secondname.as_deref()
    }
    /// Дата рождения.
    pub fn birthdate(&self) -> Date {
        self.birthdate
    }
    /// Регион.
    pub fn region(&self) -> Region {
        self.region
    }
    /// Whether only open proceedings are asked for (`onlyActual=1`).
    pub fn only_actual(&self) -> bool {
        self.only_actual
    }
}

macro_rules! person_query {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty(pub(super) Person);

        impl $ty {
            /// A search by last name, first name, birth date (`dd.mm.yyyy`) and region.
            ///
            /// # Errors
            /// The provider's code: 101/100/104/103 for a missing value, 888 for a forbidden
            /// character, 15 for a date that does not exist or lies ahead, 107 when last and
            /// first name are equal.
            pub fn new(
                lastname: &str,
                firstname: &str,
                birthdate: &str,
                region: Region,
            ) -> Result<Self, ValidationError> {
                Person::new(lastname, firstname, birthdate, region).map(Self)
            }

            /// Adds the patronymic (отчество).
            ///
            /// # Errors
            /// 888 for a forbidden character.
            pub fn with_secondname(self, secondname: &str) -> Result<Self, ValidationError> {
                self.0.with_secondname(secondname).map(Self)
            }

            /// Asks only for open proceedings (`onlyActual=1`).
            #[must_use]
            pub fn only_actual(mut self, only_actual: bool) -> Self {
                self.0.only_actual = only_actual;
                self
            }

            /// The person searched for.
            pub fn person(&self) -> &Person {
                &self.0
            }
        }
    };
}

person_query!(
    /// `physical`: debts of an individual (физическое лицо).
    ///
    /// ```
    /// use proverka_fssp::{Physical, Region};
    /// let q = Physical::new("Иванов", "Иван", "31.03.1980", Region::Code(77))?
    ///     .with_secondname("Иванович")?;
    /// assert_eq!(q.person().birthdate().to_iso(), "1980-03-31");
    /// assert_eq!(Physical::new("Иванов", "Иванов", "31.03.1980", Region::All)
    ///     .unwrap_err().code.number(), Some(107));
    /// # Ok::<(), proverka_fssp::ValidationError>(())
    /// ```
    Physical
);

person_query!(
    /// `alim` (beta): the register of alimony debtors (реестр должников по алиментам).
    Alim
);
