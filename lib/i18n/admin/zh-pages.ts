// The admin area's pages (everything but the forms), in Chinese: their sections, the server's
// refusals they show (merged into `errors`) and schema field messages (merged into `formErrors`).

export const zhPages = {
  sections: {},
  errors: {},
  formErrors: {},
};
