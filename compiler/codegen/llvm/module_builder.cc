// SPDX-License-Identifier: Apache-2.0
// Shared state and small IR helpers of the decision code generator.
#include "compiler/codegen/llvm/internal/module_builder.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>

namespace hoody::codegen {

ModuleBuilder::ModuleBuilder(llvm::LLVMContext& context, llvm::Module& module)
    : context_(context),
      module_(module),
      i1_(llvm::Type::getInt1Ty(context)),
      i8_(llvm::Type::getInt8Ty(context)),
      i32_(llvm::Type::getInt32Ty(context)),
      i64_(llvm::Type::getInt64Ty(context)),
      i128_(llvm::Type::getInt128Ty(context)),
      ptr_(llvm::PointerType::get(context, 0)) {
  llvm::Type* void_type = llvm::Type::getVoidTy(context);
  block_type_ = llvm::FunctionType::get(void_type, {ptr_, ptr_, i32_, i32_}, false);
}

llvm::Function* ModuleBuilder::createFunction(llvm::FunctionType* type, const llvm::Twine& name) {
  auto* f = llvm::Function::Create(type, llvm::GlobalValue::InternalLinkage, name, module_);
  f->setDoesNotThrow();
  return f;
}

llvm::FunctionCallee ModuleBuilder::helper(llvm::StringRef name, llvm::Type* result,
                                           llvm::ArrayRef<llvm::Type*> params) {
  auto callee = module_.getOrInsertFunction(name, llvm::FunctionType::get(result, params, false));
  if (auto* f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) f->setDoesNotThrow();
  return callee;
}

llvm::GlobalVariable* ModuleBuilder::internConstant(llvm::Constant* init, const std::string& key,
                                                    const llvm::Twine& name) {
  auto it = constants_.find(key);
  if (it != constants_.end()) return it->second;
  auto* global = new llvm::GlobalVariable(module_, init->getType(), /*isConstant=*/true,
                                          llvm::GlobalValue::PrivateLinkage, init, name);
  global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  constants_.emplace(key, global);
  return global;
}

llvm::GlobalVariable* ModuleBuilder::constantArray(llvm::ArrayRef<uint64_t> values,
                                                   const llvm::Twine& name) {
  std::string key = "q";
  key.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(uint64_t));
  return internConstant(llvm::ConstantDataArray::get(context_, values), key, name);
}

llvm::GlobalVariable* ModuleBuilder::constantArray(llvm::ArrayRef<uint32_t> values,
                                                   const llvm::Twine& name) {
  std::string key = "d";
  key.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(uint32_t));
  return internConstant(llvm::ConstantDataArray::get(context_, values), key, name);
}

llvm::GlobalVariable* ModuleBuilder::constantArray(llvm::ArrayRef<uint8_t> values,
                                                   const llvm::Twine& name) {
  std::string key = "b";
  key.append(reinterpret_cast<const char*>(values.data()), values.size());
  return internConstant(llvm::ConstantDataArray::get(context_, values), key, name);
}

llvm::GlobalVariable* ModuleBuilder::constantString(llvm::StringRef text) {
  std::string key = "s" + text.str();
  auto* init = llvm::ConstantDataArray::getString(context_, text, /*AddNull=*/false);
  return internConstant(init, key, "prefix");
}

llvm::Value* ModuleBuilder::fieldAddress(llvm::IRBuilder<>& b, llvm::Value* base, size_t offset) {
  if (offset == 0) return base;
  return b.CreateConstInBoundsGEP1_64(i8_, base, offset);
}

llvm::Value* ModuleBuilder::loadField(llvm::IRBuilder<>& b, llvm::Type* type, llvm::Value* base,
                                      size_t offset, const llvm::Twine& name) {
  return b.CreateLoad(type, fieldAddress(b, base, offset), name);
}

void ModuleBuilder::storeField(llvm::IRBuilder<>& b, llvm::Value* value, llvm::Value* base,
                               size_t offset) {
  b.CreateStore(value, fieldAddress(b, base, offset));
}

llvm::Value* ModuleBuilder::loadElement(llvm::IRBuilder<>& b, llvm::Type* element,
                                        llvm::Value* array, llvm::Value* index,
                                        const llvm::Twine& name) {
  llvm::Value* address = b.CreateInBoundsGEP(element, array, index);
  return b.CreateLoad(element, address, name);
}

}  // namespace hoody::codegen
